// Upstream k8psh's configuration grammar (README: Configuration), kept token for token; errors are located
// instead of upstream's abort().
#include "config.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <map>

namespace k8psh {
namespace {

constexpr long kFirstPort = 1120;  // upstream's DEFAULT_STARTING_PORT
constexpr long kMaxPort = 65535;

std::string locate(const std::string &file, int line, int column, const std::string &message) {
    if (line <= 0) {
        return file + ": " + message;
    }
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

// Upstream's isWhitespace: '\t' '\n' '\v' '\f' '\r' and ' '.
bool is_space(char c) {
    return (c >= 9 && c <= 13) || c == ' ';
}

// What a stub's skip path looks for in the other commands' lines, one table lookup per byte.
enum : unsigned char { kWordEnd = 1, kDecoded = 2, kQuote = 4, kNewline = 8 };
constexpr std::array<unsigned char, 256> kSkipClass = [] {
    std::array<unsigned char, 256> table{};
    for (unsigned char c : {'\t', '\n', '\v', '\f', '\r', ' ', '#'}) {
        table[c] |= kWordEnd;  // is_space, or a comment
    }
    table['\n'] |= kNewline;
    table['\''] |= kDecoded | kQuote;
    table['"'] |= kDecoded | kQuote;
    table['$'] |= kDecoded;  // only before `{`
    return table;
}();

unsigned char skip_class(char c) {
    return kSkipClass[static_cast<unsigned char>(c)];
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;  // upstream returned c - 'a' here, so \x4a was wrong
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

struct Word {
    std::string text;
    size_t offset;  // where the word starts, for messages
};

class Parser {
public:
    Parser(std::string_view text, const std::string &path, const EnvLookup &env, std::string_view only_command)
        : text_(text), path_(path), env_(env), only_command_(only_command) {}

    Config parse();

private:
    char at(size_t i) const { return i < text_.size() ? text_[i] : '\0'; }
    char peek() const { return at(pos_); }
    bool at_end() const { return pos_ >= text_.size(); }

    [[noreturn]] void fail(size_t offset, const std::string &message) const;
    std::string rest_of_line(size_t offset) const;

    void skip_blanks();
    void skip_spaces();
    void skip_comment();
    void expect_end_of_line();
    void skip_quoted();
    size_t plain_word_end() const;
    void skip_command_line();
    void check_command_name(std::string_view name, size_t offset) const;

    std::string read_word(char terminator);
    void read_single_quoted(std::string &value);
    void read_double_quoted(std::string &value);
    void read_escape(std::string &value);
    std::vector<Word> read_words();

    void parse_setting(Config &config);
    long parse_milliseconds(const std::string &key, const std::string &value, size_t offset) const;
    void parse_section(Config &config);
    void parse_command(Config &config);
    EnvEntry parse_entry(const Word &word) const;

    std::string_view text_;
    const std::string &path_;
    const EnvLookup &env_;
    std::string_view only_command_;  // non-empty: other commands' lines are skipped, not decoded
    size_t pos_ = 0;

    // Line numbers of sections and commands, counted forward from the last one asked for: the
    // parser only moves forward, so a file costs one pass, not one pass per line.
    int line_at(size_t offset);
    size_t counted_to_ = 0;
    int counted_lines_ = 1;

    long next_port_ = kFirstPort;
    std::map<std::string, int, std::less<>> section_lines_;
    std::map<std::string, int, std::less<>> command_lines_;
    std::vector<std::vector<EnvEntry>> section_env_;  // parallel to Config::servers while parsing
};

long Parser::parse_milliseconds(const std::string &key, const std::string &value, size_t offset) const {
    char *end = nullptr;
    errno = 0;
    const long ms = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || errno == ERANGE || is_space(value[0]) || value[0] == '+') {
        fail(offset, "invalid " + key + " \"" + value + "\": expecting an integer");
    }
    return ms;
}

void Parser::fail(size_t offset, const std::string &message) const {
    offset = std::min(offset, text_.size());
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < offset; ++i) {
        if (text_[i] == '\n') {
            ++line;
            line_start = i + 1;
        }
    }
    throw ConfigError(path_, line, static_cast<int>(offset - line_start) + 1, message);
}

int Parser::line_at(size_t offset) {
    if (offset < counted_to_) {
        counted_to_ = 0;
        counted_lines_ = 1;
    }
    counted_lines_ += static_cast<int>(std::count(text_.begin() + counted_to_, text_.begin() + offset, '\n'));
    counted_to_ = offset;
    return counted_lines_;
}

std::string Parser::rest_of_line(size_t offset) const {
    size_t end = offset;
    while (end < text_.size() && text_[end] != '\r' && text_[end] != '\n') {
        ++end;
    }
    return std::string(text_.substr(offset, end - offset));
}

void Parser::skip_blanks() {
    while (peek() == ' ' || peek() == '\t') {
        ++pos_;
    }
}

void Parser::skip_spaces() {
    while (!at_end() && is_space(peek())) {
        ++pos_;
    }
}

void Parser::skip_comment() {
    while (!at_end() && peek() != '\n') {
        ++pos_;
    }
}

void Parser::expect_end_of_line() {
    skip_blanks();
    if (peek() == '#') {
        skip_comment();
        return;
    }
    while (!at_end() && peek() != '\n') {
        if (!is_space(peek())) {
            fail(pos_, "expecting end of line, but found \"" + rest_of_line(pos_) + "\"");
        }
        ++pos_;
    }
}

// Past a quoted piece without decoding it. A quoted piece may span lines, so a skipped line
// ends at the first newline outside quotes; escapes and doubled quotes are stepped over.
void Parser::skip_quoted() {
    const size_t open = pos_;
    const char quote = text_[pos_++];
    for (;;) {
        if (at_end()) {
            fail(open, quote == '\'' ? "unterminated single-quoted string" : "unterminated double-quoted string");
        }
        const char c = text_[pos_++];
        if (c == '\\' && quote == '"') {
            pos_ = std::min(pos_ + 1, text_.size());
        } else if (c == quote) {
            if (peek() != quote) {
                return;
            }
            ++pos_;
        }
    }
}

// The name becomes a stub's file name in -e DIR: `../x` or `a/b` would write elsewhere.
void Parser::check_command_name(std::string_view name, size_t offset) const {
    if (name.empty()) {
        fail(offset, "empty command name");
    }
    if (name.find('/') != std::string_view::npos || name == "." || name == "..") {
        fail(offset, "command name \"" + std::string(name) + "\" is not a file name (no '/', not . or ..)");
    }
}

// The end of the word at pos_ when it reads as written (no quote, no `${`: read_word would
// return its text unchanged), else npos.
size_t Parser::plain_word_end() const {
    for (size_t end = pos_; end < text_.size(); ++end) {
        const unsigned char kind = skip_class(text_[end]);
        if ((kind & kWordEnd) != 0) {
            return end;
        }
        if ((kind & kDecoded) != 0 && (text_[end] != '$' || at(end + 1) == '{')) {
            return std::string_view::npos;
        }
    }
    return text_.size();
}

// Past the rest of a command line that is not the one asked for.
void Parser::skip_command_line() {
    // Most lines hold no quote: they end at the next newline (so does a comment).
    size_t end = pos_;
    while (end < text_.size() && (skip_class(text_[end]) & (kNewline | kQuote)) == 0) {
        ++end;
    }
    if (end == text_.size() || text_[end] == '\n') {
        pos_ = end;
        return;
    }
    while (!at_end() && peek() != '\n' && peek() != '#') {
        if (peek() == '\'' || peek() == '"') {
            skip_quoted();
        } else {
            ++pos_;
        }
    }
    skip_comment();
}

// A word is pieces (unquoted, '…', "…") joined until whitespace, `#` or the terminator.
// Like upstream, `${…}` expands over each run of unquoted and double-quoted text (after its
// escapes are decoded); single-quoted pieces stay as written for per-request expansion.
std::string Parser::read_word(char terminator) {
    std::string value;
    std::string run;
    auto flush = [&] {
        value += expand_variables(run, env_);
        run.clear();
    };
    while (!at_end() && !is_space(peek()) && peek() != '#' && peek() != terminator) {
        if (peek() == '\'') {
            flush();
            read_single_quoted(value);
        } else if (peek() == '"') {
            read_double_quoted(run);
        } else {
            run += text_[pos_++];
        }
    }
    flush();
    return value;
}

void Parser::read_single_quoted(std::string &value) {
    const size_t open = pos_++;
    for (;;) {
        if (at_end()) {
            fail(open, "unterminated single-quoted string");
        }
        if (peek() == '\'') {
            if (at(pos_ + 1) != '\'') {
                ++pos_;
                return;
            }
            ++pos_;  // '' is one quote
        }
        value += text_[pos_++];
    }
}

void Parser::read_double_quoted(std::string &value) {
    const size_t open = pos_++;
    for (;;) {
        if (at_end()) {
            fail(open, "unterminated double-quoted string");
        }
        if (peek() == '"') {
            if (at(pos_ + 1) != '"') {
                ++pos_;
                return;
            }
            ++pos_;  // "" is one quote
            value += text_[pos_++];
        } else if (peek() == '\\') {
            read_escape(value);
        } else {
            value += text_[pos_++];
        }
    }
}

void Parser::read_escape(std::string &value) {
    const size_t backslash = pos_++;
    if (at_end()) {
        return;  // the caller reports the unterminated string
    }
    const char c = text_[pos_++];
    switch (c) {
    case '"': value += '"'; return;
    case '\\': value += '\\'; return;
    case '\'': value += '\''; return;
    case 'b': value += '\b'; return;
    case 't': value += '\t'; return;
    case 'n': value += '\n'; return;
    case 'f': value += '\f'; return;
    case 'r': value += '\r'; return;
    case '0': value += '\0'; return;
    case 'x': {
        const int high = hex_value(at(pos_));
        const int low = high < 0 ? -1 : hex_value(at(pos_ + 1));
        if (low < 0) {
            fail(backslash, "invalid \\x escape: expecting two hex digits");
        }
        value += static_cast<char>(high * 16 + low);
        pos_ += 2;
        return;
    }
    default: fail(backslash, std::string("unrecognized escape sequence \\") + c);
    }
}

// Whitespace-separated words up to the end of the line or a comment.
std::vector<Word> Parser::read_words() {
    std::vector<Word> words;
    while (!at_end() && !is_space(peek()) && peek() != '#') {
        const size_t start = pos_;
        words.push_back({read_word('\0'), start});
        skip_blanks();
    }
    return words;
}

// `key = value` before the first section.
void Parser::parse_setting(Config &config) {
    const size_t key_offset = pos_;
    const std::string key = read_word('=');
    bool equals = false;
    while (peek() == ' ' || peek() == '\t' || (!equals && peek() == '=')) {
        equals = equals || peek() == '=';
        ++pos_;
    }
    if (!equals) {
        fail(pos_, "expecting = after \"" + key + "\", but found \"" + rest_of_line(pos_) + "\"");
    }
    const size_t value_offset = pos_;
    const std::string value = read_word('\0');
    expect_end_of_line();

    if (key == "baseDirectory" || key == "workingDirectory") {  // workingDirectory: the older name
        config.base_directory = value;
    } else if (key == "connectTimeoutMs") {
        config.connect_timeout_ms = parse_milliseconds(key, value, value_offset);
    } else if (key == "connectionReuseMs") {
        config.connection_reuse_ms = parse_milliseconds(key, value, value_offset);
    } else if (key == "keyDirectory") {
        config.key_directory = value;
    } else {
        fail(key_offset, "unrecognized configuration key \"" + key + "\"");
    }
}

// `[ name ]` or `[ name:port ]`, then section-wide environment entries, then server options.
void Parser::parse_section(Config &config) {
    ++pos_;
    skip_blanks();
    const size_t name_offset = pos_;
    const std::string host = read_word(']');
    skip_blanks();
    if (host.empty()) {
        fail(pos_, "expecting a server name, but found \"" + rest_of_line(pos_) + "\"");
    }
    if (peek() != ']') {
        fail(pos_, "expecting ] to close the server section, but found \"" + rest_of_line(pos_) + "\"");
    }
    ++pos_;
    skip_blanks();
    const std::vector<Word> words = read_words();
    expect_end_of_line();

    ServerSection section;
    const size_t colon = host.find(':');
    section.name = host.substr(0, colon);
    if (section.name.empty()) {
        fail(name_offset, "expecting a server name before the port in \"" + host + "\"");
    }
    long port = next_port_;
    if (colon != std::string::npos) {
        const std::string digits = host.substr(colon + 1);
        if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) {
            fail(name_offset, "invalid port number \"" + digits + "\"");
        }
        // Compared as text first: stol would overflow on a long digit string.
        const size_t significant = digits.find_first_not_of('0');
        port = significant == std::string::npos  ? 0
               : digits.size() - significant > 6 ? kMaxPort + 1
                                                 : std::stol(digits);
        if (port < 1 || port > kMaxPort) {
            fail(name_offset, "port out of range: " + digits + " (expecting 1 to 65535)");
        }
    } else if (port > kMaxPort) {
        fail(name_offset, "port out of range: " + std::to_string(port) + " (the previous section's port + 1)");
    }
    // Upstream gave a second section of the same name its own port; which one a server served
    // depended on map order, so it is an error here.
    const int line = line_at(name_offset);
    if (auto [it, added] = section_lines_.emplace(section.name, line); !added) {
        fail(name_offset,
             "duplicate server section \"" + section.name + "\" (first at line " + std::to_string(it->second) + ")");
    }
    section.port = static_cast<int>(port);
    next_port_ = port + 1;

    // Environment entries are words with `=` after their first character, as on command lines;
    // a word starting with `-` is an option (`--timeout=100`) and so is everything after it.
    std::vector<EnvEntry> env;
    size_t i = 0;
    for (; i < words.size() && words[i].text.find('=', 1) != std::string::npos && words[i].text[0] != '-'; ++i) {
        env.push_back(parse_entry(words[i]));
    }
    for (; i < words.size(); ++i) {
        section.options.push_back(words[i].text);
    }
    config.servers.push_back(std::move(section));
    section_env_.push_back(std::move(env));
}

// `NAME [ENV entries…] [executable [args…]]`
void Parser::parse_command(Config &config) {
    // A stub needs its own command only: the others cost a scan for the end of their line
    // instead of words, environment entries and argv (10,000 commands: 50 ms to a few).
    // Every name is still checked: a stub refuses a file whose names could not all be stubs.
    // A name without quotes or `${` (nearly all) is compared where it stands, without a copy.
    if (!only_command_.empty()) {
        const size_t start = pos_;
        std::string decoded;
        std::string_view name;
        if (const size_t end = plain_word_end(); end != std::string_view::npos) {
            name = text_.substr(start, end - start);
            pos_ = end;
        } else {
            decoded = read_word('\0');
            name = decoded;
        }
        check_command_name(name, start);
        if (name != only_command_) {
            skip_command_line();
            return;
        }
        pos_ = start;
    }
    const std::vector<Word> words = read_words();
    expect_end_of_line();

    const Word &name = words.front();
    check_command_name(name.text, name.offset);
    const int line = line_at(name.offset);
    // Upstream accepts a command listed twice (its own test configuration does it) and the later
    // definition wins; that stays, with a warning naming both places.
    if (auto [it, added] = command_lines_.try_emplace(name.text, line); !added) {
        config.warnings.push_back(path_ + ":" + std::to_string(line) + ": command \"" + name.text +
                                  "\" is defined again (first at " + path_ + ":" + std::to_string(it->second) +
                                  "); the later definition is used");
        it->second = line;
    }

    Command command;
    command.name = name.text;
    command.line = line;
    command.env = section_env_.back();
    size_t i = 1;
    for (; i < words.size() && !words[i].text.empty() && words[i].text.find('=', 1) != std::string::npos; ++i) {
        command.env.push_back(parse_entry(words[i]));
    }
    for (; i < words.size(); ++i) {
        command.argv.push_back(words[i].text);
    }
    if (command.argv.empty()) {
        command.argv.push_back(command.name);
    }
    config.servers.back().commands.push_back(std::move(command));
}

// `NAME=default`, `?NAME=default` or `=NAME=value`: split at the first `=` after the first
// character, so the leading `=` of the third form is not the separator.
EnvEntry Parser::parse_entry(const Word &word) const {
    const size_t equals = word.text.find('=', 1);
    std::string head = word.text.substr(0, equals);
    EnvEntry entry;
    entry.value = word.text.substr(equals + 1);
    if (head[0] == '?') {
        entry.rule = EnvRule::ClientDefaultOrServer;
        head.erase(0, 1);
    } else if (head[0] == '=') {
        entry.rule = EnvRule::Server;
        head.erase(0, 1);
    }
    if (head.empty()) {
        fail(word.offset, "empty environment variable name in \"" + word.text + "\"");
    }
    entry.name = std::move(head);
    return entry;
}

Config Parser::parse() {
    Config config;
    config.path = path_;
    // Upstream stopped reading at a NUL byte; silently ignoring the rest is worse than saying so.
    if (const size_t nul = text_.find('\0'); nul != std::string_view::npos) {
        fail(nul, "NUL byte in configuration");
    }

    for (;;) {  // common settings
        skip_spaces();
        if (at_end() || peek() == '[') {
            break;
        }
        if (peek() == '#') {
            skip_comment();
        } else {
            parse_setting(config);
        }
    }
    for (;;) {  // server sections
        skip_spaces();
        if (at_end()) {
            break;
        }
        if (peek() == '#') {
            skip_comment();
        } else if (peek() == '[') {
            parse_section(config);
        } else {
            parse_command(config);
        }
    }

    std::erase_if(config.servers, [](const ServerSection &section) { return section.commands.empty(); });
    return config;
}

}  // namespace

ConfigError::ConfigError(const std::string &file, int line, int column, const std::string &message)
    : std::runtime_error(locate(file, line, column, message)), line(line), column(column) {}

Config parse_config(std::string_view text, const std::string &path, const EnvLookup &env,
                    std::string_view only_command) {
    return Parser(text, path, env, only_command).parse();
}

}  // namespace k8psh
