#!/usr/bin/env python3
"""Derives the ImageNet-1k categories from WordNet 3.0: Sources/Recognition/Resources/imagenet-categories.tsv.

A category is a WordNet noun synset with at least one ImageNet-1k class at or below it. ImageNet's wnids are
"n" + the 8-digit WordNet 3.0 noun offset, so each class is found in WordNet's own data.noun and the hypernym
("@") and instance-hypernym ("@i") pointers are followed upward from it; every synset reached collects the class.

Needs Debian's `wordnet-base` (apt-get install wordnet-base: /usr/share/wordnet/data.noun) and the class list
(../shared/data/imagenet-classes.json from the repository root). Standard library only.

    scripts/make-categories.py            # writes the table
    scripts/make-categories.py --check    # exit 1 if the committed table's rows differ from a fresh derivation
"""

import argparse
import datetime
import hashlib
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "Sources/Recognition/Resources/imagenet-categories.tsv"
CLASSES = ROOT.parent / "shared/data/imagenet-classes.json"
WORDNET = pathlib.Path("/usr/share/wordnet")
PACKAGE = "wordnet-base"
HYPERNYM_POINTERS = {"@", "@i"}


class Synset:
    def __init__(self, offset, lemmas, hypernyms):
        self.offset = offset
        self.lemmas = lemmas
        self.hypernyms = hypernyms

    @property
    def wnid(self):
        return "n" + self.offset


def read_nouns(path):
    """data.noun: `offset lex_filenum ss_type w_cnt (word lex_id)* p_cnt (symbol offset pos source/target)* | gloss`."""
    synsets = {}
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("  "):  # the licence at the top of the file
                continue
            fields = line.partition(" | ")[0].split()
            offset, word_count = fields[0], int(fields[3], 16)
            words = fields[4:4 + 2 * word_count:2]
            position = 4 + 2 * word_count
            pointer_count = int(fields[position])
            pointers = [fields[position + 1 + 4 * i:position + 5 + 4 * i] for i in range(pointer_count)]
            hypernyms = [target for symbol, target, pos, _ in pointers if symbol in HYPERNYM_POINTERS and pos == "n"]
            lemmas = [word.replace("_", " ") for word in words]
            synsets[offset] = Synset(offset, lemmas, hypernyms)
    return synsets


def runs(indices):
    """Ascending indices as runs: [151, 152, 153, 160] -> "151-153 160" (ImageNet's order follows WordNet's, so
    most categories are a few runs; the table is compiled into the binary as an array literal, and size is build time)."""
    spans = []
    for index in sorted(indices):
        if spans and index == spans[-1][1] + 1:
            spans[-1][1] = index
        else:
            spans.append([index, index])
    return " ".join(f"{first}-{last}" if last > first else str(first) for first, last in spans)


def derive(synsets, classes):
    """For each synset with classes at or below it: its member class indices (several hypernyms: all paths)."""
    members = {}
    for entry in classes:
        wnid = entry["wnid"]
        if not (wnid.startswith("n") and wnid[1:] in synsets):
            sys.exit(f"class {entry['index']} ({entry['name']}): {wnid} is not a WordNet 3.0 noun synset")
        seen = set()
        pending = [wnid[1:]]
        while pending:
            offset = pending.pop()
            if offset in seen:
                continue
            seen.add(offset)
            pending.extend(synsets[offset].hypernyms)
        for offset in seen:
            members.setdefault(offset, set()).add(entry["index"])
    return members


def rows(synsets, members):
    """Rows ordered by descending class count, then offset: the broadest categories first."""
    ordered = sorted(members, key=lambda offset: (-len(members[offset]), offset))
    lines = []
    for offset in ordered:
        synset = synsets[offset]
        for lemma in synset.lemmas:
            if "\t" in lemma or "|" in lemma:
                sys.exit(f"lemma {lemma!r} of {synset.wnid} holds a separator of the table")
        lines.append("\t".join([synset.wnid, "|".join(synset.lemmas), runs(members[offset])]))
    return lines


def package_version(package):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not installed through dpkg)"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wordnet", type=pathlib.Path, default=WORDNET, help="folder holding data.noun")
    parser.add_argument("--classes", type=pathlib.Path, default=CLASSES, help="imagenet-classes.json")
    parser.add_argument("--output", type=pathlib.Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="compare with --output instead of writing it")
    arguments = parser.parse_args()

    data_noun = arguments.wordnet / "data.noun"
    if not data_noun.exists():
        sys.exit(f"{data_noun} is missing: apt-get install {PACKAGE}")
    classes = json.loads(arguments.classes.read_text(encoding="utf-8"))
    if [entry["index"] for entry in classes] != list(range(len(classes))):
        sys.exit(f"{arguments.classes}: the classes are not listed in output order")
    synsets = read_nouns(data_noun)
    table = rows(synsets, derive(synsets, classes))

    if arguments.check:
        committed = [line for line in arguments.output.read_text(encoding="utf-8").splitlines()
                     if line and not line.startswith("#")]
        if committed != table:
            changed = len(set(committed) ^ set(table))
            sys.exit(f"{arguments.output} differs from a fresh derivation ({changed} rows differ): run {sys.argv[0]}")
        print(f"{arguments.output}: {len(table)} categories, as derived from {data_noun}")
        return

    digest = hashlib.sha256(data_noun.read_bytes()).hexdigest()
    classes_digest = hashlib.sha256(arguments.classes.read_bytes()).hexdigest()
    header = [
        "# ImageNet-1k categories: every WordNet 3.0 noun synset with at least one ImageNet-1k class at or below it",
        "# (hypernym @ and instance-hypernym @i pointers followed upward from each class's synset).",
        f"# Source: WordNet 3.0, {data_noun} from Debian package {PACKAGE} {package_version(PACKAGE)},"
        f" sha256 {digest}",
        f"# Classes: imagenet-classes.json ({len(classes)} classes, model output order), sha256 {classes_digest}",
        f"# Made by scripts/make-categories.py on {datetime.date.today().isoformat()}; check with"
        " scripts/make-categories.py --check",
        "# WordNet 3.0 Copyright 2006 by Princeton University; licence: https://wordnet.princeton.edu/license-and-commercial-use",
        "# Columns (tab-separated): wnid, lemmas (|-separated, WordNet's order), member class indices"
        " (ascending, space-separated, runs as FIRST-LAST). Rows: most classes first, then by wnid.",
    ]
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text("\n".join(header + table) + "\n", encoding="utf-8")
    print(f"{arguments.output}: {len(table)} categories")


if __name__ == "__main__":
    main()
