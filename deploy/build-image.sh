#!/usr/bin/env bash
# Builds localhost/resnet18:latest with no registry: a Debian 12 root file system made by mmdebstrap from Debian's
# own packages (only what the binary needs at run time), the release binary and the Swift runtime libraries it
# links, a non-root user; imported with `podman import`. The same image as deploy/Containerfile.
# Usage: deploy/build-image.sh [TAG]      (as root; installs mmdebstrap and podman if missing)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tag=${1:-localhost/resnet18:latest}
cd "$root"

need=()
for tool in mmdebstrap podman; do command -v "$tool" >/dev/null || need+=("$tool")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" uidmap >/dev/null
fi

echo "==> release binary"
swift build -c release --product resnet18 >/dev/null
bin="$(swift build -c release --show-bin-path)/resnet18"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The Swift runtime the binary links (by its RUNPATH, /opt/swift/usr/lib/swift/linux), found with ldd.
mkdir -p "$work/swift"
ldd "$bin" | awk '$3 ~ /^\/opt\/swift\// {print $3}' | xargs -r cp -L -t "$work/swift"
cp "$bin" "$work/resnet18"

packages=libdnnl2,libturbojpeg0,libspng0,libwebp7,libwebpdemux2,libsqlite3-0,libgomp1,ocl-icd-libopencl1,ffmpeg,ca-certificates,passwd
echo "==> root file system (mmdebstrap, Debian 12: $packages)"
mmdebstrap --variant=minbase --include="$packages" --quiet \
  --customize-hook="mkdir -p \"\$1/opt/swift/usr/lib/swift/linux\" && cp -a $work/swift/. \"\$1/opt/swift/usr/lib/swift/linux/\"" \
  --customize-hook="install -m 0755 $work/resnet18 \"\$1/usr/local/bin/resnet18\"" \
  --customize-hook='chroot "$1" useradd --system --uid 10001 --home-dir /var/lib/resnet18 --create-home --shell /usr/sbin/nologin resnet18' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/usr/share/doc/* "$1"/usr/share/man/*' \
  bookworm "$work/rootfs.tar" /etc/apt/sources.list.d/debian.sources

echo "==> podman import $tag"
podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV RESNET18_HOST=0.0.0.0' \
  --change 'ENV RESNET18_DB=/var/lib/resnet18/history.sqlite' \
  --change 'ENV XDG_CACHE_HOME=/var/lib/resnet18/cache' \
  --change 'USER 10001' \
  --change 'WORKDIR /var/lib/resnet18' \
  --change 'VOLUME /var/lib/resnet18' \
  --change 'EXPOSE 8080 8081' \
  --change 'ENTRYPOINT ["/usr/local/bin/resnet18"]' \
  --change 'CMD ["serve"]' \
  "$work/rootfs.tar" "$tag" >/dev/null
podman image inspect "$tag" --format '{{.Id}} {{.Size}}' | awk '{printf "built %s: %.0f MB\n", $1, $2 / 1e6}'
