#pragma once
// A terminal's size as SSH carries it (RFC 4254 pty-req, window-change): the stub reads it from
// its terminal, the server applies it to the command's PTY. Here so neither side includes the other.

namespace k8psh {

struct WindowSize {
    int columns = 80;
    int rows = 24;
    int width_px = 0;
    int height_px = 0;
};

}  // namespace k8psh
