# armel: Debian's cross compiler (crossbuild-essential-armel) and the :armel -dev packages.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv5tel)
set(K8PSH_TRIPLET arm-linux-gnueabi)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabi)
set(K8PSH_QEMU qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
