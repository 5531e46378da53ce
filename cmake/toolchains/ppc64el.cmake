# ppc64el: Debian's cross compiler (crossbuild-essential-ppc64el) and the :ppc64el -dev packages.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ppc64le)
set(K8PSH_TRIPLET powerpc64le-linux-gnu)
set(CMAKE_LIBRARY_ARCHITECTURE powerpc64le-linux-gnu)
set(K8PSH_QEMU qemu-ppc64le-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
