"""Writes the small hostile and unusual files the bad-input tests upload (committed beside this script), and,
with --bombs DIR, the decompression bombs (generated at test time, since they are a megabyte each).

Usage: /usr/bin/python3 tests/hostile/make_files.py ../shared      (Pillow: Debian's python3-pil)
       python3 tests/hostile/make_files.py --weights               (hostile weights files, into weights/)
       python3 tests/hostile/make_files.py --bombs DIR             (standard library only)
"""
import struct
import sys
import zlib
from pathlib import Path

here = Path(__file__).resolve().parent


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, bit_depth: int, color_type: int, idat: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def zeros_deflated(total: int) -> bytes:
    """A zlib stream of `total` zero bytes (every PNG row: filter 0, black pixels)."""
    compressor = zlib.compressobj(9)
    block = bytes(1 << 20)
    out = []
    for _ in range(total // len(block)):
        out.append(compressor.compress(block))
    out.append(compressor.compress(bytes(total % len(block))))
    out.append(compressor.flush())
    return b"".join(out)


def bombs(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    gigabyte = 1 << 30
    stream = zeros_deflated(gigabyte)
    # Claims 65535×65535 RGBA at 16 bits (34 GB of samples); its data really inflates to 1 GiB.
    (folder / "bomb-65535.png").write_bytes(png(65535, 65535, 16, 6, stream))
    # An ordinary 4000×4000 grayscale header (16 MB of rows, under the pixel limit) whose data inflates to 1 GiB.
    (folder / "bomb-overlong.png").write_bytes(png(4000, 4000, 8, 0, stream))


def small_files(shared: Path) -> None:
    from PIL import Image

    photo = Image.open(shared / "fixtures" / "images" / "chelsea.png").convert("RGB").resize((64, 43))
    photo.convert("CMYK").save(here / "cmyk.jpg", "JPEG", quality=90)
    # 16-bit RGB, which Pillow cannot write: the high byte is the photo's, the low byte noise.
    rows = b""
    for y in range(photo.height):
        rows += b"\x00"
        for x in range(photo.width):
            for value in photo.getpixel((x, y)):
                rows += struct.pack(">H", value * 256 + (x * 7 + y) % 256)
    (here / "rgb16.png").write_bytes(png(photo.width, photo.height, 16, 2, zlib.compress(rows, 9)))
    photo.convert("L").convert("I").point(lambda v: v * 257).convert("I;16").save(here / "gray16.png", "PNG")
    photo.save(here / "photo.gif", "GIF")
    (here / "drawing.svg").write_text(
        '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
        '<script>alert(1)</script><rect width="64" height="64" fill="red"/></svg>\n')
    (here / "document.pdf").write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
    photo.save(here / "photo.webp", "WEBP", quality=80)
    # Lossless WebPs of one colour: a few kilobytes that decode to millions of pixels (decoding cost follows pixels).
    Image.new("RGB", (6320, 6320), (90, 140, 60)).save(here / "huge-lossless.webp", "WEBP", lossless=True)
    Image.new("RGB", (1000, 1000), (90, 140, 60)).save(here / "large-lossless.webp", "WEBP", lossless=True)


MARKER = "/tmp/resnet18-pickle-ran-{}"


def pickle_calling(module: str, name: str, argument: str, stack_global: bool = False) -> bytes:
    """A protocol-2 pickle of `module.name(argument)`, as a malicious checkpoint carries it (GLOBAL or, as
    protocol 4 writes it, STACK_GLOBAL)."""
    def text(value: str) -> bytes:
        data = value.encode()
        return b"X" + struct.pack("<I", len(data)) + data
    head = text(module) + text(name) + b"\x93" if stack_global else b"c" + f"{module}\n{name}\n".encode()
    return b"\x80\x02" + head + text(argument) + b"\x85R."


def stored_zip(entries, overlap_first: int = 0, deflate_sizes=None) -> bytes:
    """A zip of (name, data, method) entries. `overlap_first` grows the
    first entry's sizes in the directory by that many bytes (over the next local header); `deflate_sizes` gives
    (compressed, uncompressed) sizes to claim for method-8 entries."""
    out, directory = b"", b""
    for index, (name, data, method) in enumerate(entries):
        offset = len(out)
        raw_name = name.encode()
        compressed, uncompressed = (len(data), len(data))
        if method == 8 and deflate_sizes:
            compressed, uncompressed = deflate_sizes
        crc = zlib.crc32(data) if method == 0 else 0
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, compressed, uncompressed, len(raw_name), 0)
        out += raw_name + data
        grow = overlap_first if index == 0 else 0
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, compressed + grow,
                                 uncompressed + grow, len(raw_name), 0, 0, 0, 0, 0, offset) + raw_name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), len(out), 0)
    return out + directory + end


def torch_zip(pickle_bytes: bytes, method: int = 0, **options) -> bytes:
    return stored_zip([("archive/data.pkl", pickle_bytes, method), ("archive/byteorder", b"little", 0),
                       ("archive/version", b"3\n", 0)], **options)


def weights() -> None:
    folder = here / "weights"
    folder.mkdir(exist_ok=True)
    # Each would create its marker file if anything unpickled it (tests prove that with Python's own pickle).
    (folder / "os-system.pth").write_bytes(pickle_calling("os", "system", "touch " + MARKER.format("os-system")))
    (folder / "builtins-eval.pth").write_bytes(torch_zip(pickle_calling(
        "builtins", "eval", f"__import__('os').system('touch {MARKER.format('builtins-eval')}')")))
    (folder / "posix-system.pth").write_bytes(torch_zip(pickle_calling(
        "posix", "system", "touch " + MARKER.format("posix-system"), stack_global=True)))
    # data.pkl's sizes in the directory run 40 bytes into the next entry's local header.
    empty_state_dict = b"\x80\x02ccollections\nOrderedDict\n)R."
    (folder / "overlapping.pth").write_bytes(torch_zip(empty_state_dict, overlap_first=40))
    # A deflated data.pkl claiming to inflate to 4 GiB - 1 (the stream itself is 1 MB of zeros, 1000:1).
    stream = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = b"".join(stream.compress(bytes(1 << 20)) for _ in range(1)) + stream.flush()
    (folder / "deflate-bomb.pth").write_bytes(torch_zip(deflated, method=8, deflate_sizes=(len(deflated), 0xFFFFFFFF)))
    # A safetensors header placing a tensor at 1 TiB, far past its 16 bytes of data.
    header = b'{"conv1.weight":{"dtype":"F32","shape":[64,3,7,7],"data_offsets":[0,1099511627776]}}'
    (folder / "lying.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + bytes(16))


if __name__ == "__main__":
    if sys.argv[1] == "--weights":
        weights()
    elif sys.argv[1] == "--bombs":
        bombs(Path(sys.argv[2]))
    else:
        small_files(Path(sys.argv[1]))
