# armel: Debian's cross compiler (crossbuild-essential-armel) and the :armel -dev packages.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv5tel)
set(K8PSH_TRIPLET arm-linux-gnueabi)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabi)
set(K8PSH_QEMU qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
# ARMv5TE has no 64-bit atomic instructions: GCC calls libatomic for them (OpenSSL's
# CRYPTO_atomic_* and the server's 64-bit counters), which it does not link by itself. Standard
# libraries come last on the link line, after libcrypto.a, as a static link needs.
set(CMAKE_C_STANDARD_LIBRARIES "-latomic" CACHE STRING "armel: 64-bit atomics from libatomic")
set(CMAKE_CXX_STANDARD_LIBRARIES "-latomic" CACHE STRING "armel: 64-bit atomics from libatomic")
