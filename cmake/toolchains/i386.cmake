# i386: Debian's cross compiler (crossbuild-essential-i386) and the :i386 -dev packages. The
# compiler's triplet says i686, Debian's multiarch directory says i386. An amd64 kernel with
# IA32 emulation runs the result natively; this machine kind's kernel has none, and Debian
# registers no qemu-i386 binfmt entry on amd64: the unit tests use qemu-i386-static directly,
# and tools/binfmt registers the entry the integration tests need.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(K8PSH_TRIPLET i686-linux-gnu)
set(CMAKE_LIBRARY_ARCHITECTURE i386-linux-gnu)
set(K8PSH_QEMU qemu-i386-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
