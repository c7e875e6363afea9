// The Debian packages Rewind's tests and benchmarks need, and how to tell whether each is there.
// Shared by scripts/ensureDebianTools.js (npm test) and .ci/run.
module.exports = [
  { pkg: 'qemu-system-misc', bin: 'qemu-system-riscv32' },
  { pkg: 'qemu-utils', bin: 'qemu-img' },
  { pkg: 'gcc-riscv64-unknown-elf', bin: 'riscv64-unknown-elf-gcc' },
  { pkg: 'binutils-riscv64-unknown-elf', bin: 'riscv64-unknown-elf-objdump' },
  { pkg: 'picolibc-riscv64-unknown-elf', file: '/usr/lib/picolibc/riscv64-unknown-elf' },
  { pkg: 'gdb-multiarch', bin: 'gdb-multiarch' },
  // The end-to-end tests: the browser that drives code-server, and the Kerberos headers its
  // native `kerberos` module compiles against (its prebuilt binary would come from GitHub).
  { pkg: 'chromium', bin: 'chromium' },
  { pkg: 'libkrb5-dev', file: '/usr/include/gssapi/gssapi.h' },
];
