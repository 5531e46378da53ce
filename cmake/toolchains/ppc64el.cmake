# ppc64el: Debian's cross compiler (crossbuild-essential-ppc64el) and the :ppc64el -dev packages.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ppc64le)
set(K8PSH_TRIPLET powerpc64le-linux-gnu)
set(CMAKE_LIBRARY_ARCHITECTURE powerpc64le-linux-gnu)
set(K8PSH_QEMU qemu-ppc64le-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
# ppc64el code is the largest of all (fixed 4-byte instructions, TOC loads): at -O3 the binary
# was 8.84 MiB, over the 8 MiB limit, and 8.02 MiB with unused functions dropped
# (-ffunction-sections, --gc-sections). So this architecture is also optimised for size; a
# cache entry, since CMake would append its -O3 after a *_INIT value.
set(CMAKE_C_FLAGS_INIT "-ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "-ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_RELEASE "-Os -DNDEBUG" CACHE STRING "ppc64el: optimised for size")
set(CMAKE_CXX_FLAGS_RELEASE "-Os -DNDEBUG" CACHE STRING "ppc64el: optimised for size")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,--gc-sections")
