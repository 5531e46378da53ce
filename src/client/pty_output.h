#pragma once
// Remote PTY output shown on a local terminal that keeps its output processing (README:
// Terminal). The remote PTY sends \r\n for a program's newlines; a bare \n only comes from a
// program that turned that translation off on its side (an editor moving the cursor down one
// line, same column), and the local terminal would add a carriage return to it. IND (ESC D)
// is the same move without one, so such screens look as they would on a raw terminal.
#include <cstddef>
#include <string>

namespace k8psh {

class LineFeedKeeper {
public:
    // Appends `data` to `out` with each \n that does not follow a \r replaced by ESC D. Keeps
    // the last byte, so a \r\n split across two calls stays as it is.
    void translate(const char *data, std::size_t size, std::string &out);

private:
    bool after_cr_ = false;
};

}  // namespace k8psh
