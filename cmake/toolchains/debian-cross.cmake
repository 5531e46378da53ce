# Shared by the per-architecture toolchain files: Debian's multiarch layout, where the foreign
# libraries sit in /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE} of the build machine itself (no
# sysroot) and the headers in /usr/include are shared by every architecture.
set(CMAKE_C_COMPILER ${K8PSH_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${K8PSH_TRIPLET}-g++)
# Only ARCH's libraries: never link a build machine library that happens to be found first.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/cmake)
# Unit tests (and gtest_discover_tests at build time) run under qemu-user; it works without
# binfmt_misc, which the integration tests need instead (they exec stubs by name).
if(K8PSH_QEMU)
  find_program(K8PSH_EMULATOR ${K8PSH_QEMU})
  if(K8PSH_EMULATOR)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${K8PSH_EMULATOR})
  endif()
endif()
