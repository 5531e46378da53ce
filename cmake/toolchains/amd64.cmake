# amd64: the build machine's own architecture (Debian amd64 hosts), with the same layout as the
# cross builds so that tools/build --arch amd64 gives build-amd64/k8psh like the others.
set(CMAKE_C_COMPILER x86_64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER x86_64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE x86_64-linux-gnu)
