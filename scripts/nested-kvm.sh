#!/usr/bin/env bash
# Runs a command where /dev/kvm works, even on a machine without KVM: a Debian Linux guest under
# QEMU TCG with an emulated AMD CPU (-cpu max has SVM and nested paging) loads kvm-amd, so it has
# a real /dev/kvm; it mounts this machine's / over 9p and runs the command in this repo, as root.
#
#   scripts/nested-kvm.sh node --import tsx --test src/vmm/kvm.test.ts
#
# QEMU runs the guest's vCPUs on one host thread (KILN_NESTED_TCG_THREAD=single): with one thread
# per vCPU the guest kernel stalled now and then (RCU stall, a timer interrupt lost while a CPU
# ran a nested guest). Everything is emulated, so timings mean nothing here: this checks that Kiln's VMM is correct
# on KVM, not how fast it is. The kernel and busybox come from Debian's packages
# (apt-get download, no install) and are cached under build/nested-kvm/. Exit status: the
# command's. Where /dev/kvm already works, the command simply runs here.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
[ $# -gt 0 ] || { echo "usage: scripts/nested-kvm.sh <command> [args...]" >&2; exit 2; }

if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] && [ -z "${KILN_NESTED_FORCE:-}" ]; then
  exec "$@"
fi

cache="$repo/build/nested-kvm"
mkdir -p "$cache"
# Debian 12's kernel and its module list: these load kvm-amd and mount the 9p root.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)
[ -n "$kpkg" ] || { echo "nested-kvm: cannot find Debian's linux-image package (apt-get update?)" >&2; exit 1; }
kver=${kpkg#linux-image-}
mods="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p irqbypass ccp kvm kvm-amd"

if [ ! -f "$cache/initrd-$kver.gz" ]; then
  echo "nested-kvm: fetching $kpkg and busybox-static (Debian packages)" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get download -q "$kpkg" busybox-static >/dev/null 2>&1) || {
    echo "nested-kvm: apt-get download $kpkg busybox-static failed" >&2
    exit 1
  }
  dpkg -x "$work"/linux-image-*.deb "$work/linux"
  dpkg -x "$work"/busybox-static_*.deb "$work/bb"
  root="$work/initrd"
  mkdir -p "$root"/{bin,mnt,proc,sys,dev,mods}
  cp "$work/bb/bin/busybox" "$root/bin/"
  for m in $mods; do
    f=$(find "$work/linux/lib/modules/$kver" -name "$m.ko*" | head -1)
    [ -n "$f" ] || { echo "nested-kvm: module $m not in $kpkg" >&2; exit 1; }
    cp "$f" "$root/mods/"
  done
  cat >"$root/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $mods; do insmod /mods/\$m.ko* || echo "nested-kvm: insmod \$m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288,cache=loose hostroot /mnt || echo "nested-kvm: 9p mount failed"
mount -t proc proc /mnt/proc; mount -t sysfs sys /mnt/sys; mount -t devtmpfs dev /mnt/dev
job=\$(sed -n 's/.*kiln_job=\([^ ]*\).*/\1/p' /proc/cmdline)
chroot /mnt /bin/bash "\$job"
echo "nested-kvm: exit \$?"
poweroff -f
EOF
  chmod +x "$root/init"
  (cd "$root" && find . | "$work/bb/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1) >"$cache/initrd-$kver.gz.tmp"
  cp "$work/linux/boot/vmlinuz-$kver" "$cache/vmlinuz-$kver"
  mv "$cache/initrd-$kver.gz.tmp" "$cache/initrd-$kver.gz"
fi

# The job: the command, run in this directory with this environment's PATH.
job="$cache/job-$$.sh"
log="$cache/console-$$.log"
{
  echo "export PATH=$(printf %q "$PATH") HOME=/root"
  printf 'cd %q && exec' "$repo"
  printf ' %q' "$@"
  echo
} >"$job"
trap 'rm -f "$job" "$log"' EXIT

qemu-system-x86_64 -accel "tcg,thread=${KILN_NESTED_TCG_THREAD:-single}" -cpu max -smp "${KILN_NESTED_CPUS:-2}" -m "${KILN_NESTED_MEMORY:-4G}" -M q35 \
  -kernel "$cache/vmlinuz-$kver" -initrd "$cache/initrd-$kver.gz" \
  -append "console=ttyS0 quiet panic=-1 kiln_job=$job" \
  -nographic -no-reboot -nic none \
  -virtfs local,path=/,mount_tag=hostroot,security_model=passthrough,multidevs=remap,id=hostroot \
  </dev/null | tee "$log" | grep --line-buffered -v -E '^\x1b|SeaBIOS|^Booting from|^.?$|nested-kvm: exit' || true
status=$(sed -n 's/.*nested-kvm: exit \([0-9]*\).*/\1/p' "$log" | tail -1)
if [ -z "$status" ]; then
  echo "nested-kvm: the guest stopped without reporting the command's status" >&2
  exit 1
fi
exit "$status"
