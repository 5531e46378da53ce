// POSIX-shell quoting for the SSH exec string. The server never runs a shell: it
// splits with quote removal only, so `;`, `$`, globs and redirections in it are plain bytes.
#include "argv_quoting.h"

namespace k8psh {
namespace {

// Bytes a shell never treats specially anywhere in a word. `=` and `~` are left out on purpose:
// a leading `NAME=` would be an assignment and a leading `~` a tilde expansion in /bin/sh.
bool is_plain(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == '/' || c == ',' || c == ':' || c == '@' || c == '%' || c == '+';
}

bool is_separator(char c) {
    return c == ' ' || c == '\t' || c == '\n';
}

void quote_word(std::string &out, const std::string &word) {
    bool plain = !word.empty();
    for (char c : word) {
        plain = plain && is_plain(c);
    }
    if (plain) {
        out += word;
        return;
    }
    // Everything is literal inside '…'; a quote itself closes, is escaped, and reopens.
    out += '\'';
    for (char c : word) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    out += '\'';
}

}  // namespace

std::string quote_argv(const std::vector<std::string> &argv) {
    std::string out;
    for (size_t i = 0; i < argv.size(); ++i) {
        if (i > 0) {
            out += ' ';
        }
        quote_word(out, argv[i]);
    }
    return out;
}

std::vector<std::string> split_command(std::string_view text) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;  // distinct from !word.empty(): '' is an empty word
    size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (is_separator(c)) {
            if (in_word) {
                words.push_back(std::move(word));
                word.clear();
                in_word = false;
            }
            ++i;
        } else if (c == '\\') {
            if (i + 1 >= text.size()) {
                throw SplitError("trailing backslash in command");
            }
            if (text[i + 1] != '\n') {  // backslash-newline is a line continuation: removed
                word += text[i + 1];
                in_word = true;
            }
            i += 2;
        } else if (c == '\'') {
            const size_t close = text.find('\'', i + 1);
            if (close == std::string_view::npos) {
                throw SplitError("unterminated single quote in command");
            }
            word += text.substr(i + 1, close - i - 1);
            in_word = true;
            i = close + 1;
        } else if (c == '"') {
            in_word = true;
            for (++i;; ++i) {
                if (i >= text.size()) {
                    throw SplitError("unterminated double quote in command");
                }
                if (text[i] == '"') {
                    ++i;
                    break;
                }
                // Inside "…" a backslash escapes only $ ` " \ and newline; elsewhere it is kept.
                const char next = i + 1 < text.size() ? text[i + 1] : '\0';
                if (text[i] == '\\' && (next == '$' || next == '`' || next == '"' || next == '\\' || next == '\n')) {
                    if (next != '\n') {
                        word += next;
                    }
                    ++i;
                } else {
                    word += text[i];
                }
            }
        } else {
            word += c;
            in_word = true;
            ++i;
        }
    }
    if (in_word) {
        words.push_back(std::move(word));
    }
    return words;
}

}  // namespace k8psh
