// The SSH exec string: argv survives quote_argv + split_command byte for byte.
#include "argv_quoting.h"

#include <gtest/gtest.h>

#include <random>

namespace k8psh {
namespace {

using Words = std::vector<std::string>;

TEST(ArgvQuoting, PlainWordsStayReadable) {
    EXPECT_EQ(quote_argv({"gcc", "-O2", "-o", "out/a.o", "a,b:c@d%e+f_g"}), "gcc -O2 -o out/a.o a,b:c@d%e+f_g");
}

TEST(ArgvQuoting, EverythingElseIsSingleQuoted) {
    EXPECT_EQ(quote_argv({}), "");
    EXPECT_EQ(quote_argv({""}), "''");
    EXPECT_EQ(quote_argv({"a b"}), "'a b'");
    EXPECT_EQ(quote_argv({"it's"}), "'it'\\''s'");
    EXPECT_EQ(quote_argv({"$HOME", "*", "a;b", "~", "X=1", "#"}), "'$HOME' '*' 'a;b' '~' 'X=1' '#'");
    EXPECT_EQ(quote_argv({"line\nbreak"}), "'line\nbreak'");
}

TEST(ArgvSplitting, WhitespaceSeparates) {
    EXPECT_EQ(split_command(""), Words{});
    EXPECT_EQ(split_command(" \t\n"), Words{});
    EXPECT_EQ(split_command("  a \t b\nc  "), (Words{"a", "b", "c"}));
}

TEST(ArgvSplitting, QuotesAndEscapes) {
    EXPECT_EQ(split_command("'' \"\""), (Words{"", ""}));
    EXPECT_EQ(split_command("a'b c'\"d e\"f"), (Words{"ab cd ef"}));
    EXPECT_EQ(split_command("'\\n$x\"'"), (Words{"\\n$x\""}));
    EXPECT_EQ(split_command("a\\ b \\'x"), (Words{"a b", "'x"}));
    EXPECT_EQ(split_command("a\\\nb"), (Words{"ab"}));        // line continuation
    EXPECT_EQ(split_command("a \\\n b"), (Words{"a", "b"}));  // … which makes no word
    EXPECT_EQ(split_command("\"\\$\\`\\\"\\\\\""), (Words{"$`\"\\"}));
    EXPECT_EQ(split_command("\"\\a\\n\""), (Words{"\\a\\n"}));  // other backslashes are kept
    EXPECT_EQ(split_command("\"a\\\nb\""), (Words{"ab"}));
}

TEST(ArgvSplitting, NoShellMetacharacters) {
    EXPECT_EQ(split_command("a;b | c > d && $(e) `f` *"), (Words{"a;b", "|", "c", ">", "d", "&&", "$(e)", "`f`", "*"}));
}

TEST(ArgvSplitting, Errors) {
    EXPECT_THROW(split_command("'abc"), SplitError);
    EXPECT_THROW(split_command("a \"abc"), SplitError);
    EXPECT_THROW(split_command("\"abc\\\""), SplitError);
    EXPECT_THROW(split_command("abc\\"), SplitError);
    try {
        split_command("x 'y");
    } catch (const SplitError &error) {
        EXPECT_NE(std::string(error.what()).find("unterminated single quote"), std::string::npos);
    }
}

// Random words weighted towards the bytes that matter to a shell, plus every other byte.
std::string random_word(std::mt19937 &rng) {
    static const std::string special = " \t\n\r'\"\\$`*?[]{}~#=;&|<>()!\x80\xff\xc3";
    std::uniform_int_distribution<int> length(0, 12);
    std::uniform_int_distribution<int> pick(0, 3);
    std::uniform_int_distribution<int> any_byte(1, 255);
    std::uniform_int_distribution<size_t> special_index(0, special.size() - 1);
    std::string word;
    for (int n = length(rng); n > 0; --n) {
        switch (pick(rng)) {
        case 0: word += special[special_index(rng)]; break;
        case 1: word += static_cast<char>(any_byte(rng)); break;
        default: word += static_cast<char>('a' + (any_byte(rng) % 26)); break;
        }
    }
    return word;
}

TEST(ArgvQuoting, RoundTripsRandomArgv) {
    std::mt19937 rng(20240517);
    std::uniform_int_distribution<int> count(0, 6);
    for (int iteration = 0; iteration < 20000; ++iteration) {
        Words argv;
        for (int n = count(rng); n > 0; --n) {
            argv.push_back(random_word(rng));
        }
        const std::string quoted = quote_argv(argv);
        ASSERT_EQ(split_command(quoted), argv) << "quoted: " << quoted;
    }
}

TEST(ArgvQuoting, RoundTripsEdgeCases) {
    const std::vector<Words> cases = {{""},
                                      {"", ""},
                                      {"'"},
                                      {"''"},
                                      {"\\"},
                                      {"\\\n"},
                                      {"\n"},
                                      {"\"", "'"},
                                      {"$", "${A}", "$(x)"},
                                      {std::string("\0", 1)},
                                      {"\xff\xfe", "\x80"},
                                      {std::string(1 << 20, 'x')},
                                      {std::string(1000, '\'')}};
    for (const Words &argv : cases) {
        EXPECT_EQ(split_command(quote_argv(argv)), argv);
    }
}

}  // namespace
}  // namespace k8psh
