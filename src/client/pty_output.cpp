#include "pty_output.h"

namespace k8psh {

void LineFeedKeeper::translate(const char *data, std::size_t size, std::string &out) {
    out.reserve(out.size() + size);
    for (std::size_t i = 0; i < size; ++i) {
        char byte = data[i];
        if (byte == '\n' && !after_cr_) {
            out += "\033D";
        } else {
            out += byte;
        }
        after_cr_ = byte == '\r';
    }
}

}  // namespace k8psh
