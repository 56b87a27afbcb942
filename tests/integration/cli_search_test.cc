// End-to-end tests of `tessera search`, `tessera index ...` and `tessera optimize-indices`:
// each test drives the real binary (path in $TESSERA_CLI) in a fresh temporary directory and
// checks its stdout, stderr and exit status.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace tessera {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr int kNumRows = 300;

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

std::vector<Json> JsonLines(const std::string& text) {
  std::vector<Json> rows;
  for (const std::string& line : Lines(text)) {
    Json row = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(row.is_discarded()) << line;
    EXPECT_TRUE(row.is_object()) << line;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string Describe(const CliRun& run) {
  return "exit " + std::to_string(run.exit_code) + "\nstdout: " + run.out + "\nstderr: " + run.err;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A failure prints exactly one line "tessera: ..." on stderr and nothing on stdout.
void ExpectError(const CliRun& run, int exit_code, const std::string& part) {
  EXPECT_EQ(run.exit_code, exit_code) << Describe(run);
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << Describe(run);
  EXPECT_TRUE(run.err.starts_with("tessera: ")) << Describe(run);
  EXPECT_TRUE(Contains(run.err, part)) << "expected '" << part << "' in\n" << Describe(run);
  EXPECT_EQ(run.out, "") << Describe(run);
}

void WriteFile(const fs::path& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
}

// The vector of row `id`: distinct and non-zero for every id (the first element is id + 1).
std::vector<float> VectorOf(int id) {
  return {static_cast<float>(id + 1), static_cast<float>(id % 7), static_cast<float>(id % 13),
          static_cast<float>((id * 31) % 17)};
}

std::string JsonArray(const std::vector<float>& vector) {
  std::string out = "[";
  for (size_t idx = 0; idx < vector.size(); ++idx) {
    if (idx > 0) out += ", ";
    out += std::to_string(vector[idx]);
  }
  return out + "]";
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

class CliSearchTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(CliPath())) << "no tessera binary at " << CliPath();
    std::string pattern = (fs::temp_directory_path() / "tessera_cli_search_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    table_ = (dir_ / "table").string();
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  // Run a command that must succeed without writing to stderr.
  CliRun Ok(const std::vector<std::string>& args) {
    CliRun run = RunCli(args);
    EXPECT_EQ(run.exit_code, 0) << Describe(run);
    EXPECT_EQ(run.err, "") << Describe(run);
    return run;
  }

  // Add rows [first_id, first_id + num_rows) from a JSON lines file; text is "even" or "odd".
  void AddRows(int first_id, int num_rows) {
    std::string text;
    for (int id = first_id; id < first_id + num_rows; ++id) {
      text += "{\"id\": " + std::to_string(id) + ", \"vector\": " + JsonArray(VectorOf(id)) +
              ", \"text\": \"" + (id % 2 == 0 ? "even" : "odd") + "\"}\n";
    }
    const fs::path path = dir_ / ("rows_" + std::to_string(first_id) + ".jsonl");
    WriteFile(path, text);
    Ok({"add", table_, path.string()});
  }

  // Create the table (version 1) and add kNumRows rows with ids 0.. (version 2).
  void CreateAndFill() {
    Ok({"create", table_, "--schema", "id:int64,vector:vector[4],text:utf8"});
    AddRows(0, kNumRows);
  }

  std::vector<Json> Search(std::vector<std::string> extra) {
    std::vector<std::string> args = {"search", table_};
    args.insert(args.end(), extra.begin(), extra.end());
    return JsonLines(Ok(args).out);
  }

  std::vector<Json> ListIndices() { return JsonLines(Ok({"index", "list", table_}).out); }

  fs::path dir_;
  std::string table_;
};

TEST_F(CliSearchTest, VectorFindsTheExactMatchFirst) {
  CreateAndFill();
  const std::vector<Json> rows = Search({"--vector", JsonArray(VectorOf(42))});
  ASSERT_EQ(rows.size(), 10u);  // the default k
  EXPECT_EQ(rows[0]["id"], 42);
  EXPECT_EQ(rows[0]["text"], "even");
  EXPECT_EQ(rows[0]["_distance"], 0.0);
  for (size_t idx = 0; idx < rows.size(); ++idx) {
    // Every non-vector column plus _distance, nothing else.
    EXPECT_EQ(rows[idx].size(), 3u) << rows[idx];
    EXPECT_FALSE(rows[idx].contains("vector"));
    EXPECT_FALSE(rows[idx].contains("query"));
    if (idx > 0) {
      EXPECT_GE(rows[idx]["_distance"], rows[idx - 1]["_distance"]);
    }
  }
}

TEST_F(CliSearchTest, KWhereSelectAndRowId) {
  CreateAndFill();
  const std::string vector = JsonArray(VectorOf(100));
  EXPECT_EQ(Search({"--vector", vector, "--k", "3"}).size(), 3u);

  std::vector<Json> rows = Search({"--vector", vector, "--k", "5", "--where", "text = 'odd'"});
  ASSERT_EQ(rows.size(), 5u);
  for (const Json& row : rows) EXPECT_EQ(row["text"], "odd") << row;
  EXPECT_NE(rows[0]["id"], 100);

  rows =
      Search({"--vector", vector, "--k", "4", "--where", "text = 'odd'", "--prefilter", "false"});
  EXPECT_LE(rows.size(), 4u);
  for (const Json& row : rows) EXPECT_EQ(row["text"], "odd") << row;

  rows = Search({"--vector", vector, "--k", "2", "--select", "id,vector", "--with-row-id"});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["id"], 100);
  EXPECT_EQ(rows[0]["_rowid"], 100);  // rows were added in id order from row id 0
  EXPECT_EQ(rows[0]["vector"].size(), 4u);
  EXPECT_FALSE(rows[0].contains("text"));
  EXPECT_EQ(rows[0].size(), 4u) << rows[0];  // id, vector, _distance, _rowid

  // Result columns may be selected too, in any order.
  EXPECT_EQ(
      Ok({"search", table_, "--vector", vector, "--k", "1", "--select", "_rowid,_distance,text"})
          .out,
      "{\"_rowid\":100,\"_distance\":0,\"text\":\"even\"}\n");
  EXPECT_EQ(Ok({"search", table_, "--vector", vector, "--k", "1", "--select", "_distance"}).out,
            "{\"_distance\":0}\n");

  rows = Search({"--vector", vector, "--k", "1", "--metric", "dot", "--bypass-index"});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_LT(rows[0]["_distance"], 0.0);  // dot: -(a . b)
}

TEST_F(CliSearchTest, QueryFileOfJsonLinesAndFvecs) {
  CreateAndFill();
  const fs::path jsonl = dir_ / "queries.jsonl";
  WriteFile(jsonl, JsonArray(VectorOf(7)) + "\n\n" + JsonArray(VectorOf(250)) + "\r\n" +
                       JsonArray(VectorOf(3)) + "\n");
  std::vector<Json> rows = Search({"--query-file", jsonl.string(), "--k", "2"});
  ASSERT_EQ(rows.size(), 6u);
  const int expected[] = {7, 250, 3};
  for (int query = 0; query < 3; ++query) {
    const Json& best = rows[static_cast<size_t>(query) * 2];
    EXPECT_EQ(best["query"], query) << best;
    EXPECT_EQ(best["id"], expected[query]) << best;
    EXPECT_EQ(best["_distance"], 0.0) << best;
    EXPECT_EQ(rows[static_cast<size_t>(query) * 2 + 1]["query"], query);
  }

  const fs::path fvecs = dir_ / "queries.FVECS";
  WriteFile(fvecs, Fvecs({VectorOf(11), VectorOf(12)}));
  rows = Search({"--query-file", fvecs.string(), "--k", "1", "--select", "id"});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], Json({{"query", 0}, {"id", 11}, {"_distance", 0.0}}));
  EXPECT_EQ(rows[1], Json({{"query", 1}, {"id", 12}, {"_distance", 0.0}}));
}

TEST_F(CliSearchTest, ExplainWritesOneJsonLinePerQueryToStderr) {
  CreateAndFill();
  CliRun run = RunCli(
      {"search", table_, "--vector", JsonArray(VectorOf(5)), "--explain", "--where", "id < 100"});
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(JsonLines(run.out).size(), 10u);
  std::vector<Json> stats = JsonLines(run.err);
  ASSERT_EQ(stats.size(), 1u) << run.err;
  EXPECT_EQ(stats[0]["rows_flat_scanned"], kNumRows);
  EXPECT_EQ(stats[0]["rows_filtered_out"], kNumRows - 100);
  EXPECT_EQ(stats[0]["segments_searched"], 0);
  EXPECT_TRUE(stats[0].contains("total_ms"));

  const fs::path jsonl = dir_ / "queries.jsonl";
  WriteFile(jsonl, JsonArray(VectorOf(1)) + "\n" + JsonArray(VectorOf(2)) + "\n");
  run = RunCli({"search", table_, "--query-file", jsonl.string(), "--explain", "--k", "1"});
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(JsonLines(run.out).size(), 2u);
  EXPECT_EQ(JsonLines(run.err).size(), 2u) << run.err;
}

TEST_F(CliSearchTest, IndexCreateListStatsSearchOptimizeDrop) {
  CreateAndFill();
  CliRun run = RunCli({"index", "create", table_, "--column", "vector", "--num-partitions", "4"});
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(run.out,
            "created index vector_idx (IVF_HNSW_SQ, l2) on vector (300 rows) as version 3\n");
  // Progress on stderr (not a terminal): a line per 10% step, ending at 100%.
  const std::vector<std::string> progress = Lines(run.err);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), "building index vector_idx: 100%");

  std::vector<Json> indices = ListIndices();
  ASSERT_EQ(indices.size(), 1u);
  EXPECT_EQ(indices[0]["name"], "vector_idx");
  EXPECT_EQ(indices[0]["column"], "vector");
  EXPECT_EQ(indices[0]["type"], "IVF_HNSW_SQ");
  EXPECT_EQ(indices[0]["metric"], "l2");
  EXPECT_EQ(indices[0]["num_indexed_rows"], kNumRows);
  EXPECT_EQ(indices[0]["num_unindexed_rows"], 0);
  EXPECT_EQ(indices[0]["segments"], 1);
  EXPECT_GT(indices[0]["bytes"], 0);
  EXPECT_TRUE(Contains(Ok({"index", "list", table_, "--format", "table"}).out, "vector_idx"));

  const Json stats = Json::parse(Ok({"index", "stats", table_, "vector_idx"}).out);
  EXPECT_EQ(stats["type"], "IVF_HNSW_SQ");
  EXPECT_EQ(stats["params"]["num_partitions"], 4);
  EXPECT_EQ(stats["num_indexed_rows"], kNumRows);
  EXPECT_EQ(stats["segments"], 1);

  // Rows added after the index form the tail, which every search still scans.
  AddRows(1000, 5);
  const std::string new_vector = JsonArray(VectorOf(1003));
  run = RunCli({"search", table_, "--vector", new_vector, "--k", "3", "--explain"});
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  std::vector<Json> rows = JsonLines(run.out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["id"], 1003);
  EXPECT_EQ(rows[0]["_distance"], 0.0);
  Json explain = Json::parse(run.err);
  EXPECT_EQ(explain["segments_searched"], 1);
  EXPECT_EQ(explain["rows_flat_scanned"], 5);
  EXPECT_GT(explain["rows_via_index"], 0);
  // --fast-search skips the tail; --bypass-index scans everything.
  run = RunCli({"search", table_, "--vector", new_vector, "--fast-search", "--explain"});
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(Json::parse(run.err)["rows_flat_scanned"], 0);
  for (const Json& row : JsonLines(run.out)) EXPECT_LT(row["id"], 1000) << row;
  run = RunCli({"search", table_, "--vector", new_vector, "--bypass-index", "--explain"});
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(Json::parse(run.err)["rows_flat_scanned"], kNumRows + 5);
  EXPECT_EQ(Json::parse(run.err)["segments_searched"], 0);
  EXPECT_EQ(ListIndices()[0]["num_unindexed_rows"], 5);

  EXPECT_EQ(Ok({"optimize-indices", table_}).out, "indexed 5 rows as 1 new segment as version 5\n");
  indices = ListIndices();
  ASSERT_EQ(indices.size(), 1u);
  EXPECT_EQ(indices[0]["num_indexed_rows"], kNumRows + 5);
  EXPECT_EQ(indices[0]["num_unindexed_rows"], 0);
  EXPECT_EQ(indices[0]["segments"], 2);
  EXPECT_EQ(Ok({"optimize-indices", table_}).out, "nothing to do: every index covers every row\n");
  rows = Search({"--vector", new_vector, "--k", "1", "--fast-search", "--nprobes", "4", "--ef",
                 "64", "--refine-factor", "2"});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["id"], 1003);

  EXPECT_EQ(Ok({"index", "drop", table_, "vector_idx"}).out,
            "dropped index vector_idx as version 6\n");
  EXPECT_TRUE(ListIndices().empty());
  EXPECT_EQ(Ok({"index", "list", table_, "--format", "table"}).out, "no indices\n");
  EXPECT_EQ(Ok({"optimize-indices", table_}).out, "no indices to optimize\n");
  EXPECT_EQ(Search({"--vector", new_vector, "--k", "1"})[0]["id"], 1003);
}

TEST_F(CliSearchTest, IndexNamesTypesAndMetrics) {
  CreateAndFill();
  CliRun run = RunCli({"index", "create", table_, "--type", "IVF_FLAT", "--metric", "cosine",
                       "--name", "flat", "--num-partitions", "2", "--sample-rate", "64"});
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(run.out, "created index flat (IVF_FLAT, cosine) on vector (300 rows) as version 3\n");
  const Json stats = Json::parse(Ok({"index", "stats", table_, "flat"}).out);
  EXPECT_EQ(stats["metric"], "cosine");
  EXPECT_EQ(stats["type"], "IVF_FLAT");
  // The cosine index serves a query without --metric; the nearest has distance ~0.
  const std::vector<Json> rows = Search({"--vector", JsonArray(VectorOf(77)), "--k", "1"});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NEAR(rows[0]["_distance"].get<double>(), 0.0, 1e-5);

  ExpectError(RunCli({"index", "create", table_, "--type", "BOGUS"}), 2, "BOGUS");
  ExpectError(RunCli({"index", "create", table_, "--column", "text"}), 2, "not a vector column");
  ExpectError(RunCli({"index", "create", table_, "--m", "99999999999"}), 1, "--m");
}

TEST_F(CliSearchTest, TableOfOnlyVectorsPrintsDistances) {
  Ok({"create", table_, "--schema", "vector:vector[2]"});
  const fs::path fvecs = dir_ / "rows.fvecs";
  WriteFile(fvecs, Fvecs({{0, 0}, {1, 0}, {0, 3}}));
  Ok({"add", table_, fvecs.string()});
  const std::vector<std::string> lines =
      Lines(Ok({"search", table_, "--vector", "[1, 0.5]", "--with-row-id"}).out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "{\"_distance\":0.25,\"_rowid\":1}");
  EXPECT_EQ(Ok({"search", table_, "--vector", "[1, 0.5]", "--k", "1", "--select", "vector"}).out,
            "{\"vector\":[1,0],\"_distance\":0.25}\n");
}

TEST_F(CliSearchTest, TableFormat) {
  CreateAndFill();
  const fs::path jsonl = dir_ / "queries.jsonl";
  WriteFile(jsonl, JsonArray(VectorOf(1)) + "\n" + JsonArray(VectorOf(2)) + "\n");
  const CliRun run =
      Ok({"search", table_, "--query-file", jsonl.string(), "--k", "2", "--format", "table"});
  const std::vector<std::string> lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 5u) << run.out;  // header + 2 queries x 2 rows
  EXPECT_TRUE(lines[0].starts_with("query")) << lines[0];
  EXPECT_TRUE(Contains(lines[0], "_distance")) << lines[0];
  EXPECT_FALSE(Contains(lines[0], "vector")) << lines[0];
}

TEST_F(CliSearchTest, BadQueriesAreClearErrors) {
  CreateAndFill();
  ExpectError(RunCli({"search", table_, "--vector", "[1, 2, 3]"}), 2,
              "query vector has dimension 3, column 'vector' has dimension 4");
  ExpectError(RunCli({"search", table_, "--vector", "[1, 2, oops, 4]"}), 1,
              "element 3 ('oops') is not a number");
  ExpectError(RunCli({"search", table_, "--vector", "[1, 2, 3, 4"}), 1, "closing ']'");
  ExpectError(RunCli({"search", table_, "--vector", "1, 2, 3, 4"}), 1, "JSON array");
  ExpectError(RunCli({"search", table_, "--vector", "[1, NaN, 3, 4]"}), 1, "element 2 is NaN");
  ExpectError(RunCli({"search", table_, "--vector", "[1, 2, 1e39, 4]"}), 1, "float32 range");
  ExpectError(RunCli({"search", table_, "--vector", "[]"}), 1, "empty");
  ExpectError(RunCli({"search", table_}), 1, "--vector");
  ExpectError(RunCli({"search", table_, "--vector", "[1,2,3,4]", "--k", "0"}), 1, "--k");

  const fs::path jsonl = dir_ / "bad.jsonl";
  WriteFile(jsonl, JsonArray(VectorOf(1)) + "\n[1, 2]\n");
  ExpectError(RunCli({"search", table_, "--query-file", jsonl.string()}), 2, "bad.jsonl line 2");
  const fs::path fvecs = dir_ / "bad.fvecs";
  WriteFile(fvecs, Fvecs({{1, 2, 3}}));
  ExpectError(RunCli({"search", table_, "--query-file", fvecs.string()}), 2, "dimension 3");
  WriteFile(jsonl, "\n");
  ExpectError(RunCli({"search", table_, "--query-file", jsonl.string()}), 2, "no vectors");
  ExpectError(RunCli({"search", table_, "--query-file", jsonl.string(), "--vector", "[1]"}), 1,
              "exactly one");

  ExpectError(RunCli({"search", table_, "--vector", "[1,2,3,4]", "--where", "nope = 1"}), 2,
              "nope");
  ExpectError(RunCli({"search", table_, "--vector", "[1,2,3,4]", "--select", "nope"}), 2, "nope");
  ExpectError(RunCli({"search", (dir_ / "missing").string(), "--vector", "[1,2,3,4]"}), 2, "");
}

TEST_F(CliSearchTest, UnknownIndexNames) {
  CreateAndFill();
  ExpectError(RunCli({"index", "stats", table_, "nope"}), 2, "index 'nope' does not exist");
  ExpectError(RunCli({"index", "drop", table_, "nope"}), 2, "index 'nope' does not exist");
  ExpectError(RunCli({"index", "frobnicate", table_}), 1, "unknown subcommand");
}

TEST_F(CliSearchTest, Help) {
  CliRun run = Ok({"--help"});
  for (const char* command :
       {"search", "index create", "index list", "index stats", "index drop", "optimize-indices"}) {
    EXPECT_TRUE(Contains(run.out, command)) << command;
  }
  run = Ok({"search", "--help"});
  EXPECT_TRUE(run.out.starts_with("usage: tessera search TABLE")) << run.out;
  EXPECT_TRUE(Contains(run.out, "stderr")) << run.out;
  run = Ok({"index", "--help"});
  EXPECT_TRUE(Contains(run.out, "index create")) << run.out;
}

}  // namespace
}  // namespace tessera
