// Fuzzes the SSH exec string. The input is used twice: as an exec string a client (or an
// attacker) sent, which must split or be refused with SplitError; and as the bytes of an argv,
// which must survive quote_argv + split_command byte for byte.
#include "argv_quoting.h"
#include "fuzz_check.h"

#include <cstdint>
#include <fuzzer/FuzzedDataProvider.h>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Words = std::vector<std::string>;

bool is_separator(char c) {
    return c == ' ' || c == '\t' || c == '\n';
}

// What a POSIX shell never treats specially, in any position of a word. Written out here rather
// than taken from the code under test: this is the specification quote_argv must meet.
bool is_shell_inert(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("_-./,:@%+").find(c) != std::string_view::npos;
}

// quote_argv's output is words of inert bytes and '…' runs joined by \' , separated by one
// space: nothing a shell would expand, glob, redirect or split differently.
bool only_shell_safe_syntax(std::string_view quoted) {
    for (size_t i = 0; i < quoted.size(); ++i) {
        const char c = quoted[i];
        if (c == '\'') {
            const size_t close = quoted.find('\'', i + 1);
            if (close == std::string_view::npos) {
                return false;
            }
            i = close;
        } else if (c == '\\') {
            if (i + 1 >= quoted.size() || quoted[i + 1] != '\'') {
                return false;
            }
            ++i;
        } else if (c != ' ' && !is_shell_inert(c)) {
            return false;
        }
    }
    return true;
}

// Without quotes or backslashes, splitting is plain whitespace splitting.
Words whitespace_split(std::string_view text) {
    Words words;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_separator(text[i])) {
            ++i;
        }
        const size_t start = i;
        while (i < text.size() && !is_separator(text[i])) {
            ++i;
        }
        if (i > start) {
            words.emplace_back(text.substr(start, i - start));
        }
    }
    return words;
}

void check_exec_string(std::string_view text) {
    Words words;
    try {
        words = k8psh::split_command(text);
    } catch (const k8psh::SplitError &) {
        return;  // refused: the server answers with an error, which is all that is asked
    }
    if (text.find_first_of("'\"\\") == std::string_view::npos) {
        FUZZ_CHECK(words == whitespace_split(text));
    }
    const std::string requoted = k8psh::quote_argv(words);
    FUZZ_CHECK(only_shell_safe_syntax(requoted));
    FUZZ_CHECK(k8psh::split_command(requoted) == words);
}

void check_argv_round_trip(const uint8_t *data, size_t size) {
    FuzzedDataProvider provider(data, size);
    Words argv;
    while (provider.remaining_bytes() > 0) {
        argv.push_back(provider.ConsumeRandomLengthString());
    }
    const std::string quoted = k8psh::quote_argv(argv);
    FUZZ_CHECK(only_shell_safe_syntax(quoted));
    Words split;
    try {
        split = k8psh::split_command(quoted);
    } catch (const k8psh::SplitError &) {
        FUZZ_CHECK(!"quote_argv produced a string split_command refuses");
    }
    FUZZ_CHECK(split == argv);
    FUZZ_CHECK(k8psh::quote_argv(split) == quoted);  // one quoting per argv
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_exec_string(std::string_view(reinterpret_cast<const char *>(data), size));
    check_argv_round_trip(data, size);
    return 0;
}
