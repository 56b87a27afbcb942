// End-to-end tests of the `tessera` command-line tool: each test drives the real binary
// (path in $TESSERA_CLI) in a fresh temporary directory and checks its stdout, stderr and
// exit status.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tessera/table.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Return the path of the `tessera` binary: $TESSERA_CLI, else the one built with this test.
std::string CliPath() {
  if (const char* cli = std::getenv("TESSERA_CLI")) return cli;
  return TESSERA_CLI;
}

// Run the CLI with `args`, capturing stdout and stderr (both pipes, so not terminals).
CliRun RunCli(const std::vector<std::string>& args) {
  CliRun run;
  const std::string cli_path = CliPath();
  if (cli_path.empty()) return run;
  const char* cli = cli_path.c_str();
  int out_pipe[2];
  int err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) return run;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    close(out_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[0]);
    close(err_pipe[1]);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(cli));
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(cli, argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&run.out, &run.err};
  int open_fds = 2;
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) break;
    for (int idx = 0; idx < 2; ++idx) {
      if (fds[idx].fd < 0 || fds[idx].revents == 0) continue;
      char buf[65536];
      const ssize_t n = read(fds[idx].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[idx]->append(buf, static_cast<size_t>(n));
      } else {
        close(fds[idx].fd);
        fds[idx].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Return the display column (UTF-8 code points before) of byte offset `pos` in `line`.
size_t DisplayColumn(const std::string& line, size_t pos) {
  size_t column = 0;
  for (size_t idx = 0; idx < pos && idx < line.size(); ++idx) {
    if ((static_cast<unsigned char>(line[idx]) & 0xC0) != 0x80) ++column;
  }
  return column;
}

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

std::vector<Json> JsonLines(const std::string& text) {
  std::vector<Json> rows;
  for (const std::string& line : Lines(text)) {
    Json row = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(row.is_discarded()) << line;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string Describe(const CliRun& run) {
  return "exit " + std::to_string(run.exit_code) + "\nstdout: " + run.out + "\nstderr: " + run.err;
}

// A failure prints exactly one line "tessera: ..." on stderr and nothing on stdout.
void ExpectOneErrorLine(const CliRun& run) {
  EXPECT_NE(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << Describe(run);
  EXPECT_TRUE(run.err.starts_with("tessera: ")) << Describe(run);
  EXPECT_TRUE(run.err.ends_with("\n")) << Describe(run);
}

void WriteFile(const fs::path& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
}

// Return fvecs bytes: per vector an int32 dim then dim float32, little endian.
std::string Fvecs(const std::vector<std::vector<float>>& vectors) {
  std::string bytes;
  for (const auto& vector : vectors) {
    const auto dim = static_cast<int32_t>(vector.size());
    bytes.append(reinterpret_cast<const char*>(&dim), sizeof(dim));
    bytes.append(reinterpret_cast<const char*>(vector.data()), vector.size() * sizeof(float));
  }
  return bytes;
}

std::vector<fs::path> FilesIn(const fs::path& dir, const std::string& extension) {
  std::vector<fs::path> files;
  if (!fs::exists(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == extension) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class CliTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(CliPath())) << "no tessera binary at " << CliPath();
    std::string pattern = (fs::temp_directory_path() / "tessera_cli_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    table_ = (dir_ / "table").string();
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  CliRun Ok(const std::vector<std::string>& args) {
    CliRun run = RunCli(args);
    EXPECT_EQ(run.exit_code, 0) << Describe(run);
    EXPECT_EQ(run.err, "") << Describe(run);
    return run;
  }

  // Create the table and add 3 rows from JSON lines, 2 from CSV and 2 from fvecs
  // (versions 1 to 4; ids 0..6).
  void CreateAndFill() {
    Ok({"create", table_, "--schema", "id:int64,vector:vector[4],text:utf8"});
    const fs::path jsonl = dir_ / "rows.jsonl";
    WriteFile(jsonl,
              "{\"id\": 0, \"vector\": [0.1, 0.2, 0.3, 0.4], \"text\": \"zero\"}\n"
              "{\"id\": 1, \"vector\": [1, 1, 1, 1], \"text\": \"one\"}\n"
              "{\"id\": 2, \"vector\": [2, 2, 2, 2], \"text\": \"two\"}\n");
    CliRun run = Ok({"add", table_, jsonl.string()});
    EXPECT_EQ(run.out, "added 3 rows from " + jsonl.string() + " as version 2\n");
    const fs::path csv = dir_ / "rows.csv";
    WriteFile(csv, "id,vector,text\n3,\"[3,3,3,3]\",three\n4,\"[4,4,4,4]\",four\n");
    run = Ok({"add", table_, csv.string()});
    EXPECT_EQ(run.out, "added 2 rows from " + csv.string() + " as version 3\n");
    const fs::path fvecs = dir_ / "rows.fvecs";
    WriteFile(fvecs, Fvecs({{5, 5, 5, 5}, {6, 6, 6, 6}}));
    run = Ok({"add", table_, fvecs.string()});
    EXPECT_EQ(run.out, "added 2 rows from " + fvecs.string() + " as version 4\n");
  }

  int NumVersions() {
    return static_cast<int>(Lines(Ok({"versions", table_, "--format", "jsonl"}).out).size());
  }

  fs::path dir_;
  std::string table_;
};

TEST_F(CliTest, CreateAddCountAndScanJsonLines) {
  CreateAndFill();
  EXPECT_EQ(Ok({"count", table_}).out, "7\n");
  EXPECT_EQ(Ok({"count", table_, "--where", "id >= 5"}).out, "2\n");
  EXPECT_EQ(Ok({"schema", table_}).out, "id:int64,vector:vector[4],text:utf8\n");

  const std::vector<Json> rows = JsonLines(Ok({"scan", table_}).out);
  ASSERT_EQ(rows.size(), 7u);
  for (size_t idx = 0; idx < rows.size(); ++idx) {
    EXPECT_EQ(rows[idx]["id"], static_cast<int64_t>(idx));
    ASSERT_TRUE(rows[idx]["vector"].is_array());
    EXPECT_EQ(rows[idx]["vector"].size(), 4u);
    EXPECT_FALSE(rows[idx].contains("_rowid"));
  }
  EXPECT_EQ(rows[0]["text"], "zero");
  EXPECT_EQ(rows[3]["text"], "three");
  EXPECT_EQ(rows[5]["vector"][0], 5.0);
  EXPECT_TRUE(rows[6]["text"].is_null());
}

TEST_F(CliTest, FvecsIdsContinueAfterTheLargestId) {
  Ok({"create", table_, "--schema", "id:int64,vector:vector[2]"});
  const fs::path first = dir_ / "a.fvecs";
  const fs::path second = dir_ / "b.fvecs";
  WriteFile(first, Fvecs({{1, 2}, {3, 4}, {5, 6}}));
  WriteFile(second, Fvecs({{7, 8}}));
  // Two files in one command: the second continues after the first.
  CliRun run = Ok({"add", table_, first.string(), second.string()});
  EXPECT_EQ(run.out, "added 3 rows from " + first.string() + " as version 2\nadded 1 rows from " +
                         second.string() + " as version 3\n");
  Ok({"add", table_, first.string()});
  const std::vector<Json> rows = JsonLines(Ok({"scan", table_, "--select", "id"}).out);
  ASSERT_EQ(rows.size(), 7u);
  for (size_t idx = 0; idx < rows.size(); ++idx) {
    EXPECT_EQ(rows[idx].dump(), "{\"id\":" + std::to_string(idx) + "}");
  }
}

TEST_F(CliTest, ScanSelectLimitVersionRowIdAndTable) {
  CreateAndFill();
  // Columns come in --select order.
  EXPECT_EQ(Ok({"scan", table_, "--select", "text, id", "--limit", "2"}).out,
            "{\"text\":\"zero\",\"id\":0}\n{\"text\":\"one\",\"id\":1}\n");

  std::vector<Json> rows = JsonLines(Ok({"scan", table_, "--version", "2"}).out);
  EXPECT_EQ(rows.size(), 3u);
  EXPECT_EQ(Ok({"count", table_, "--version=3"}).out, "5\n");

  rows =
      JsonLines(Ok({"scan", table_, "--with-row-id", "--where", "id = 4", "--select", "id"}).out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["id"], 4);
  ASSERT_TRUE(rows[0].contains("_rowid"));
  EXPECT_EQ(rows[0]["_rowid"], 4);

  const std::vector<std::string> lines =
      Lines(Ok({"scan", table_, "--format", "table", "--limit", "3"}).out);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_TRUE(lines[0].starts_with("id")) << lines[0];
  EXPECT_NE(lines[0].find("vector"), std::string::npos);
  EXPECT_NE(lines[0].find("text"), std::string::npos);
  EXPECT_NE(lines[1].find("[0.1, 0.2, … 4 dims]"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("zero"), std::string::npos);
  // Columns are aligned: "text" starts in the same display column in the header and every row.
  const size_t text_col = DisplayColumn(lines[0], lines[0].find("text"));
  EXPECT_EQ(DisplayColumn(lines[1], lines[1].find("zero")), text_col);
  EXPECT_EQ(DisplayColumn(lines[2], lines[2].find("one")), text_col);
}

TEST_F(CliTest, DeleteThenCount) {
  CreateAndFill();
  EXPECT_EQ(Ok({"delete", table_, "--where", "id < 2"}).out, "deleted 2 rows as version 5\n");
  EXPECT_EQ(Ok({"count", table_}).out, "5\n");
  EXPECT_EQ(Ok({"delete", table_, "--where", "id > 100"}).out, "no rows matched\n");
  EXPECT_EQ(NumVersions(), 5);
  EXPECT_EQ(Ok({"count", table_, "--version", "4"}).out, "7\n");
}

TEST_F(CliTest, VersionsAsTableAndJsonLines) {
  CreateAndFill();
  const std::vector<Json> versions = JsonLines(Ok({"versions", table_, "--format", "jsonl"}).out);
  ASSERT_EQ(versions.size(), 4u);
  const int64_t expected_rows[] = {0, 3, 5, 7};
  for (size_t idx = 0; idx < versions.size(); ++idx) {
    const Json& version = versions[idx];
    EXPECT_EQ(version["version"], idx + 1);
    EXPECT_EQ(version["operation"], idx == 0 ? "create" : "add");
    EXPECT_EQ(version["rows"], expected_rows[idx]);
    for (const char* key :
         {"timestamp", "fragments", "base_version", "duration_ms", "rows_added", "rows_deleted"}) {
      EXPECT_TRUE(version.contains(key)) << key;
    }
    const std::string timestamp = version["timestamp"];
    EXPECT_TRUE(timestamp.size() >= 20 && timestamp[10] == 'T' && timestamp.ends_with("Z"))
        << timestamp;
  }
  EXPECT_EQ(versions[1]["rows_added"], 3);
  EXPECT_EQ(versions[3]["fragments"], 3);

  const std::vector<std::string> lines = Lines(Ok({"versions", table_}).out);
  ASSERT_EQ(lines.size(), 5u);  // header + 4 versions
  EXPECT_EQ(Words(lines[0]),
            (std::vector<std::string>{"version", "timestamp", "operation", "rows", "fragments"}));
  const std::vector<std::string> first = Words(lines[1]);
  ASSERT_EQ(first.size(), 5u) << lines[1];
  EXPECT_EQ(first[0], "1");
  EXPECT_EQ(first[2], "create");
  const std::vector<std::string> last = Words(lines[4]);
  ASSERT_EQ(last.size(), 5u) << lines[4];
  EXPECT_EQ(last[0], "4");
  EXPECT_EQ(last[1], versions[3]["timestamp"].get<std::string>().substr(0, 19) + "Z");
  EXPECT_EQ(last[2], "add");
  EXPECT_EQ(last[3], "7");
  EXPECT_EQ(last[4], "3");
}

TEST_F(CliTest, RestoreAndTags) {
  CreateAndFill();
  EXPECT_EQ(Ok({"restore", table_, "2"}).out, "restored version 2 as version 5\n");
  EXPECT_EQ(Ok({"count", table_}).out, "3\n");

  EXPECT_EQ(Ok({"tag", "create", table_, "three-rows", "2"}).err, "");
  Ok({"tag", "create", table_, "all", "4"});
  EXPECT_EQ(Ok({"tag", "list", table_}).out, "all 4\nthree-rows 2\n");
  EXPECT_EQ(JsonLines(Ok({"scan", table_, "--version", "4"}).out).size(), 7u);

  // Tags by name are in the C++ API.
  auto table = Table::Open(table_);
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_TRUE((*table)->CheckoutTag("all").ok());
  auto count = (*table)->CountRows();
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 7);

  Ok({"tag", "delete", table_, "all"});
  EXPECT_EQ(Ok({"tag", "list", table_}).out, "three-rows 2\n");
  ExpectOneErrorLine(RunCli({"tag", "create", table_, "three-rows", "3"}));
}

TEST_F(CliTest, InspectManifestDataAndDeletionFiles) {
  CreateAndFill();
  Ok({"delete", table_, "--where", "id = 1 OR id = 2"});

  const fs::path manifest = fs::path(table_) / "_versions" / "5.manifest";
  ASSERT_TRUE(fs::exists(manifest));
  Json json = Json::parse(Ok({"inspect", manifest.string()}).out, nullptr, false);
  ASSERT_FALSE(json.is_discarded());
  EXPECT_TRUE(json.is_object());

  const std::vector<fs::path> data_files = FilesIn(fs::path(table_) / "data", ".arrow");
  ASSERT_EQ(data_files.size(), 3u);
  for (const fs::path& data_file : data_files) {
    json = Json::parse(Ok({"inspect", data_file.string()}).out, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << data_file;
    EXPECT_TRUE(json.is_object());
  }

  const std::vector<fs::path> deletion_files = FilesIn(fs::path(table_) / "deletions", ".del");
  ASSERT_EQ(deletion_files.size(), 1u);
  json = Json::parse(Ok({"inspect", deletion_files[0].string()}).out, nullptr, false);
  ASSERT_FALSE(json.is_discarded());
  EXPECT_EQ(json["num_rows"], 2);
  EXPECT_EQ(json["row_ids"].dump(), "[[1,3]]");

  // Without a known extension the kind is sniffed from the magic bytes.
  const fs::path copy = dir_ / "manifest-copy";
  fs::copy_file(manifest, copy);
  json = Json::parse(Ok({"inspect", copy.string()}).out, nullptr, false);
  EXPECT_FALSE(json.is_discarded());

  const fs::path junk = dir_ / "junk.bin";
  WriteFile(junk, "hello");
  ExpectOneErrorLine(RunCli({"inspect", junk.string()}));
}

TEST_F(CliTest, UsageErrorsExitWithOne) {
  CliRun run = RunCli({"frobnicate"});
  ExpectOneErrorLine(run);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("unknown command 'frobnicate'"), std::string::npos) << run.err;

  run = RunCli({"count", table_, "--bogus", "1"});
  ExpectOneErrorLine(run);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("--bogus"), std::string::npos) << run.err;

  run = RunCli({"scan", table_, "--limit", "many"});
  ExpectOneErrorLine(run);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("--limit"), std::string::npos) << run.err;

  run = RunCli({"create", table_});
  ExpectOneErrorLine(run);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("--schema"), std::string::npos) << run.err;

  run = RunCli({});
  ExpectOneErrorLine(run);
  EXPECT_EQ(run.exit_code, 1);
  run = RunCli({"tag"});
  ExpectOneErrorLine(run);
  EXPECT_EQ(run.exit_code, 1);
}

TEST_F(CliTest, FailedOperationsExitWithTwo) {
  CliRun run = RunCli({"count", (dir_ / "missing").string()});
  ExpectOneErrorLine(run);
  EXPECT_EQ(run.exit_code, 2);

  run = RunCli({"create", table_, "--schema", "id:int64,vector:vector[x]"});
  ExpectOneErrorLine(run);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("schema"), std::string::npos) << run.err;
  EXPECT_FALSE(fs::exists(fs::path(table_) / "_versions" / "1.manifest"));

  CreateAndFill();
  run = RunCli({"create", table_, "--schema", "id:int64"});
  ExpectOneErrorLine(run);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("exists"), std::string::npos) << run.err;
}

TEST_F(CliTest, WrongVectorDimensionLeavesTheTableUnchanged) {
  CreateAndFill();
  const fs::path bad = dir_ / "bad.jsonl";
  WriteFile(bad,
            "{\"id\": 10, \"vector\": [1, 2, 3, 4], \"text\": \"ok\"}\n"
            "{\"id\": 11, \"vector\": [1, 2, 3], \"text\": \"short\"}\n");
  const CliRun run = RunCli({"add", table_, bad.string()});
  ExpectOneErrorLine(run);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("bad.jsonl"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("line 2"), std::string::npos) << run.err;
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(NumVersions(), 4);
  EXPECT_EQ(Ok({"count", table_}).out, "7\n");
}

TEST_F(CliTest, MalformedFilterNamesThePosition) {
  CreateAndFill();
  const CliRun run = RunCli({"count", table_, "--where", "id >= AND 3"});
  ExpectOneErrorLine(run);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("position"), std::string::npos) << run.err;
  const CliRun del = RunCli({"delete", table_, "--where", "(id = 3"});
  ExpectOneErrorLine(del);
  EXPECT_EQ(NumVersions(), 4);
}

TEST_F(CliTest, HelpAndVersion) {
  CliRun run = Ok({"--help"});
  EXPECT_NE(run.out.find("Exit status"), std::string::npos);
  for (const char* command : {"create", "add", "count", "scan", "delete", "versions", "restore",
                              "tag create", "inspect", "schema"}) {
    EXPECT_NE(run.out.find(command), std::string::npos) << command;
  }
  run = Ok({"scan", "--help"});
  EXPECT_TRUE(run.out.starts_with("usage: tessera scan TABLE")) << run.out;
  EXPECT_NE(run.out.find("--with-row-id"), std::string::npos);
  run = Ok({"tag", "--help"});
  EXPECT_NE(run.out.find("tag create"), std::string::npos);
  run = Ok({"--version"});
  EXPECT_TRUE(run.out.starts_with("tessera ")) << run.out;
}

}  // namespace
}  // namespace tessera
