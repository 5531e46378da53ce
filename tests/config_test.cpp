// The configuration outside the grammar (config_parser_test.cpp has the grammar): reading the
// file, the base and key directories made absolute relative to the file, the errors a reader
// sees when the file cannot be read, and the faces' load-or-report on top of it.
#include "config.h"
#include "key_directory.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <optional>
#include <unistd.h>

namespace k8psh {
namespace {

class ConfigLoad : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "k8psh-config-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = std::filesystem::canonical(pattern);
        std::filesystem::create_directories(dir_ / "conf" / "sub");
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write(const std::string &text) {
        std::string path = (dir_ / "conf" / "k8psh.conf").string();
        std::ofstream(path) << text;
        return path;
    }

    std::filesystem::path dir_;
};

TEST_F(ConfigLoad, BaseDirectoryDefaultsToTheConfigDirectory) {
    const Config config = load_config(write("[s]\nx\n"));
    EXPECT_EQ(config.base_directory, (dir_ / "conf").string());
    EXPECT_EQ(config.servers.size(), 1u);
}

TEST_F(ConfigLoad, RelativeBaseDirectoryIsResolvedAgainstTheConfigDirectory) {
    EXPECT_EQ(load_config(write("baseDirectory = ..\n")).base_directory, dir_.string());
    EXPECT_EQ(load_config(write("baseDirectory = sub/\n")).base_directory, (dir_ / "conf" / "sub").string());
    EXPECT_EQ(load_config(write("baseDirectory = not/yet/there\n")).base_directory,
              (dir_ / "conf" / "not" / "yet" / "there").string());
}

TEST_F(ConfigLoad, AbsoluteBaseDirectoryIsKept) {
    EXPECT_EQ(load_config(write("baseDirectory = /nonexistent/k8psh//ws/\n")).base_directory, "/nonexistent/k8psh/ws");
}

TEST_F(ConfigLoad, RelativeKeyDirectoryIsResolvedAgainstTheConfigDirectory) {
    EXPECT_EQ(load_config(write("keyDirectory = keys\n")).key_directory, (dir_ / "conf" / "keys").string());
    EXPECT_EQ(load_config(write("keyDirectory = ../bin/keys\n")).key_directory, (dir_ / "bin" / "keys").string());
    EXPECT_EQ(load_config(write("keyDirectory = /k8psh/bin/keys\n")).key_directory, "/k8psh/bin/keys");
    EXPECT_FALSE(load_config(write("[s]\nx\n")).key_directory.has_value());
}

TEST_F(ConfigLoad, ExpandsTheProcessEnvironment) {
    ::setenv("K8PSH_TEST_CONFIG_DIR", "/from/env", 1);
    EXPECT_EQ(load_config(write("baseDirectory = ${K8PSH_TEST_CONFIG_DIR}\n")).base_directory, "/from/env");
    ::unsetenv("K8PSH_TEST_CONFIG_DIR");
    EXPECT_EQ(process_env()("K8PSH_TEST_CONFIG_DIR"), std::nullopt);
}

TEST_F(ConfigLoad, ErrorsNameTheFile) {
    const std::string missing = (dir_ / "missing.conf").string();
    try {
        load_config(missing);
        ADD_FAILURE() << "no error";
    } catch (const ConfigError &error) {
        EXPECT_EQ(std::string(error.what()), missing + ": cannot read: No such file or directory");
        EXPECT_EQ(error.line, 0);
    }
    EXPECT_THROW(load_config(dir_.string()), ConfigError);
    const std::string path = write("[s]\nx\n[t]\nx\n");
    const Config twice = load_config(path);
    ASSERT_EQ(twice.warnings.size(), 1u);
    EXPECT_EQ(twice.warnings[0].rfind(path + ":4: command \"x\" is defined again (first at " + path + ":2)", 0), 0u)
        << twice.warnings[0];
}

TEST_F(ConfigLoad, ADirectoryCannotBeReadAndTheErrorNamesIt) {
    const std::string directory = (dir_ / "conf").string();
    try {
        load_config(directory);
        ADD_FAILURE() << "no error";
    } catch (const ConfigError &error) {
        const std::string message = error.what();
        EXPECT_EQ(message.rfind(directory + ": ", 0), 0u) << message;
        EXPECT_NE(message.find("cannot read"), std::string::npos) << message;
        EXPECT_NE(message.find(std::strerror(EISDIR)), std::string::npos) << message;
    }
}

TEST_F(ConfigLoad, SyntaxErrorsAreLocatedInTheFile) {
    const std::string path = write("[s]\nx\n[broken\n");
    try {
        load_config(path);
        ADD_FAILURE() << "no error";
    } catch (const ConfigError &error) {
        EXPECT_EQ(std::string(error.what()).rfind(path + ":3:", 0), 0u) << error.what();
        EXPECT_EQ(error.line, 3);
    }
}

// Sets the working directory for one test and puts the previous one back.
class WorkingDirectory {
public:
    explicit WorkingDirectory(const std::filesystem::path &directory) : saved_(std::filesystem::current_path()) {
        std::filesystem::current_path(directory);
    }
    ~WorkingDirectory() { std::filesystem::current_path(saved_); }
    WorkingDirectory(const WorkingDirectory &) = delete;
    WorkingDirectory &operator=(const WorkingDirectory &) = delete;

private:
    std::filesystem::path saved_;
};

TEST_F(ConfigLoad, ARelativeFilePathStillGivesAbsoluteDirectories) {
    write("keyDirectory = keys\n[s]\nx\n");
    WorkingDirectory cwd(dir_);
    const Config config = load_config("conf/k8psh.conf");
    EXPECT_EQ(config.path, "conf/k8psh.conf");
    EXPECT_EQ(config.base_directory, (dir_ / "conf").string());
    EXPECT_EQ(config.key_directory, (dir_ / "conf" / "keys").string());
}

// The base compares equal to what getcwd() says below it, so a symlinked configuration
// directory gives the real path (the key directory is only normalised).
TEST_F(ConfigLoad, ASymlinkedDirectoryGivesTheRealBase) {
    write("baseDirectory = sub\n");
    std::filesystem::create_directory_symlink(dir_ / "conf", dir_ / "link");
    const Config config = load_config((dir_ / "link" / "k8psh.conf").string());
    EXPECT_EQ(config.base_directory, (dir_ / "conf" / "sub").string());
}

TEST_F(ConfigLoad, OnlyCommandKeepsTheOtherCommandsOut) {
    const std::string path = write("[s]\nx\ny\n[t]\nz\n");
    const Config all = load_config(path);
    EXPECT_NE(all.find_command("x"), nullptr);
    EXPECT_NE(all.find_command("z"), nullptr);
    const Config only = load_config(path, "y");
    EXPECT_NE(only.find_command("y"), nullptr);
    EXPECT_EQ(only.find_command("x"), nullptr);
    EXPECT_EQ(only.find_server("t"), nullptr);
    EXPECT_EQ(only.base_directory, (dir_ / "conf").string());
}

// A stub's load maps the file instead of reading it: the same messages for what it cannot use,
// the same locations, and an empty file (which cannot be mapped) is read as before.
TEST_F(ConfigLoad, AStubsLoadReportsLikeTheFullOne) {
    const auto message = [](const std::string &path, std::string_view only) {
        try {
            load_config(path, only);
        } catch (const ConfigError &error) {
            return std::string(error.what());
        }
        return std::string("no error");
    };
    const std::string missing = (dir_ / "missing.conf").string();
    EXPECT_EQ(message(missing, "x"), missing + ": cannot read: No such file or directory");
    EXPECT_EQ(message((dir_ / "conf").string(), "x"), message((dir_ / "conf").string(), ""));
    const std::string broken = write("[s]\ny 'spans\nlines'\nx\n[broken\n");
    EXPECT_EQ(message(broken, "x"), broken + ":5:8: expecting ] to close the server section, but found \"\"");
    EXPECT_EQ(message(broken, "x"), message(broken, ""));
    EXPECT_TRUE(load_config(write(""), "x").servers.empty());
    const Config only = load_config(write("[s]\ny 'spans\nlines'\nx /bin/x\n"), "x");
    ASSERT_NE(only.find_command("x"), nullptr);
    EXPECT_EQ(only.find_command("x")->line, 4);
    EXPECT_EQ(only.find_command("x")->argv, std::vector<std::string>{"/bin/x"});
}

// Sets or clears K8PSH_CONFIG for one test and puts the previous value back.
class ConfigVariable {
public:
    explicit ConfigVariable(const char *value) {
        if (const char *old = std::getenv("K8PSH_CONFIG"); old != nullptr) {
            saved_ = old;
        }
        value != nullptr ? setenv("K8PSH_CONFIG", value, 1) : unsetenv("K8PSH_CONFIG");
    }
    ~ConfigVariable() { saved_ ? setenv("K8PSH_CONFIG", saved_->c_str(), 1) : unsetenv("K8PSH_CONFIG"); }
    ConfigVariable(const ConfigVariable &) = delete;
    ConfigVariable &operator=(const ConfigVariable &) = delete;

private:
    std::optional<std::string> saved_;
};

TEST_F(ConfigLoad, OrReportLoadsTheNamedFile) {
    ConfigVariable variable("/nonexistent/k8psh.conf");
    const std::optional<Config> config = load_config_or_report(write("[s]\nx\n"));
    ASSERT_TRUE(config.has_value());
    EXPECT_EQ(config->base_directory, (dir_ / "conf").string());
    EXPECT_NE(config->find_command("x"), nullptr);
}

TEST_F(ConfigLoad, OrReportIsNulloptForABadFile) {
    ConfigVariable variable(nullptr);
    EXPECT_FALSE(load_config_or_report((dir_ / "missing.conf").string()).has_value());
    EXPECT_FALSE(load_config_or_report((dir_ / "conf").string()).has_value());
    EXPECT_FALSE(load_config_or_report(write("[s\n")).has_value());
}

TEST_F(ConfigLoad, OrReportFallsBackToTheVariableThenTheWorkingDirectory) {
    const std::string path = write("[from_variable]\nx\n");
    {
        ConfigVariable variable(path.c_str());
        const std::optional<Config> config = load_config_or_report(std::nullopt);
        ASSERT_TRUE(config.has_value());
        EXPECT_NE(config->find_server("from_variable"), nullptr);
    }
    ConfigVariable variable(nullptr);
    std::ofstream((dir_ / "k8psh.conf").string()) << "[from_cwd]\ny\n";
    WorkingDirectory cwd(dir_);
    const std::optional<Config> config = load_config_or_report(std::nullopt);
    ASSERT_TRUE(config.has_value());
    EXPECT_NE(config->find_server("from_cwd"), nullptr);
    EXPECT_EQ(config->base_directory, dir_.string());
}

}  // namespace
}  // namespace k8psh
