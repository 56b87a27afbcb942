// End-to-end tests of `tessera ingest` (--watch --once, --stdin), upsert/update and of
// `tessera demo`, driving the real binary (path in $TESSERA_CLI) through the shell; the table
// on local disk and on the S3 gateway (s3://..., the AWS_* environment reaches the binary).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "testing/backend_test.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;

std::string CliPath() {
  if (const char* cli = std::getenv("TESSERA_CLI")) return cli;
  return TESSERA_CLI;
}

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class CliIngestTest : public test::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    dir_ = root().local_dir();
    table_ = root().Path("table");
    watch_ = dir_ / "in";
    fs::create_directories(watch_);
  }

  // Run `tessera ARGS` with stdin from `input`.
  CliRun Tessera(const std::vector<std::string>& args, const std::string& input = "") {
    std::ofstream(dir_ / "stdin") << input;
    std::string command = Quote(CliPath());
    for (const std::string& arg : args) command += " " + Quote(arg);
    command += " <" + Quote((dir_ / "stdin").string()) + " >" + Quote((dir_ / "out").string()) +
               " 2>" + Quote((dir_ / "err").string());
    const int status = std::system(command.c_str());
    CliRun run;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.out = ReadAll(dir_ / "out");
    run.err = ReadAll(dir_ / "err");
    return run;
  }
  CliRun Ok(const std::vector<std::string>& args, const std::string& input = "") {
    CliRun run = Tessera(args, input);
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    return run;
  }
  static std::string Rows(int first, int n) {
    std::string out;
    for (int id = first; id < first + n; ++id) {
      out +=
          "{\"id\": " + std::to_string(id) + ", \"vector\": [1, 2, " + std::to_string(id) + "]}\n";
    }
    return out;
  }

  fs::path dir_, watch_;
  std::string table_;
};

TEST_P(CliIngestTest, WatchOnceIngestsEachFileOnceAndQuarantinesBadOnes) {
  Ok({"create", table_, "--schema", "id:int64,vector:vector[3]"});
  std::ofstream(watch_ / "a.jsonl") << Rows(0, 4);
  std::ofstream(watch_ / "b.jsonl") << Rows(4, 4);
  std::ofstream(watch_ / "c.jsonl") << "{\"id\": 99, \"vector\": [1]}\n";
  CliRun run = Ok({"ingest", table_, "--watch", watch_.string(), "--once", "--stream-id", "cli",
                   "--max-rows-per-batch", "4"});
  EXPECT_NE(run.out.find("quarantined c.jsonl: "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("batch 0: 1 file, 4 rows, commit "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("batch 1: 1 file, 4 rows, commit "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find(", 8 rows in table"), std::string::npos) << run.out;
  EXPECT_TRUE(fs::exists(watch_ / "_quarantine" / "c.jsonl.reason"));
  EXPECT_EQ(Ok({"count", table_}).out, "8\n");
  // Again: nothing new.
  run = Ok({"ingest", table_, "--watch", watch_.string(), "--once", "--stream-id", "cli"});
  EXPECT_EQ(run.out.find("batch"), std::string::npos) << run.out;
  EXPECT_EQ(Ok({"count", table_}).out, "8\n");
}

TEST_P(CliIngestTest, StdinCommitsBatchesOfJsonLines) {
  Ok({"create", table_, "--schema", "id:int64,vector:vector[3]"});
  const CliRun run = Ok({"ingest", table_, "--stdin", "--max-rows-per-batch", "5"}, Rows(0, 12));
  EXPECT_NE(run.out.find("batch 0: 0 files, 5 rows"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("batch 2: 0 files, 2 rows"), std::string::npos) << run.out;
  EXPECT_EQ(Ok({"count", table_}).out, "12\n");
  const CliRun bad = Tessera({"ingest", table_, "--stdin"}, "{\"id\": 1, \"vector\": [1]}\n");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("line 1"), std::string::npos) << bad.err;
  EXPECT_EQ(Ok({"count", table_}).out, "12\n");
}

TEST_P(CliIngestTest, BadArgumentsAreUsageErrors) {
  Ok({"create", table_, "--schema", "id:int64,vector:vector[3]"});
  EXPECT_EQ(Tessera({"ingest", table_}).exit_code, 1);
  EXPECT_EQ(Tessera({"ingest", table_, "--stdin", "--watch", watch_.string()}).exit_code, 1);
  EXPECT_EQ(Tessera({"ingest", table_, "--stdin", "--once"}).exit_code, 1);
  EXPECT_EQ(Tessera({"ingest", table_, "--watch", watch_.string(), "--trigger", "0"}).exit_code, 1);
  const CliRun missing = Tessera({"ingest", table_, "--watch", (dir_ / "nope").string(), "--once"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("is not a directory"), std::string::npos) << missing.err;
}

TEST_P(CliIngestTest, UpsertAndUpdate) {
  Ok({"create", table_, "--schema", "id:int64,vector:vector[3],text:utf8"});
  std::ofstream(dir_ / "first.jsonl") << Rows(0, 5);
  Ok({"add", table_, (dir_ / "first.jsonl").string()});
  std::ofstream(dir_ / "change.jsonl")
      << "{\"id\": 3, \"vector\": [0, 0, 3], \"text\": \"changed\"}\n"
      << "{\"id\": 9, \"vector\": [0, 0, 9], \"text\": \"new\"}\n";
  CliRun run = Ok({"upsert", table_, (dir_ / "change.jsonl").string(), "--on", "id"});
  EXPECT_EQ(run.out,
            "upserted " + (dir_ / "change.jsonl").string() +
                " as version 3: 1 inserted, 1 updated, 0 deleted (5 table rows scanned)\n");
  // With a key index on id, only rows added after it are scanned.
  run = Ok({"index", "create", table_, "--column", "id", "--type", "BTREE"});
  EXPECT_EQ(run.out, "created index id_idx (BTREE) on id (6 rows) as version 4\n");
  run = Ok({"upsert", table_, (dir_ / "change.jsonl").string(), "--on", "id"});
  EXPECT_EQ(run.out, "upserted " + (dir_ / "change.jsonl").string() +
                         " as version 5: 0 inserted, 2 updated, 0 deleted (key index; 0 table rows "
                         "scanned)\n");
  EXPECT_EQ(Ok({"count", table_}).out, "6\n");
  EXPECT_EQ(Ok({"count", table_, "--where", "text = 'changed'"}).out, "1\n");
  std::ofstream(dir_ / "dup.jsonl") << Rows(1, 1) << Rows(1, 1);
  const CliRun dup = Tessera({"upsert", table_, (dir_ / "dup.jsonl").string(), "--on", "id"});
  EXPECT_EQ(dup.exit_code, 2);
  EXPECT_NE(dup.err.find("duplicate keys in the source: id=1"), std::string::npos) << dup.err;
  EXPECT_EQ(Tessera({"upsert", table_, (dir_ / "change.jsonl").string()}).exit_code, 1);  // --on
  run = Ok({"update", table_, "--where", "id < 2", "--set", "text = 'low; really'; id = id + 100"});
  EXPECT_EQ(run.out, "updated 2 rows as version 6\n");
  EXPECT_EQ(Ok({"count", table_, "--where", "id >= 100 AND text = 'low; really'"}).out, "2\n");
  EXPECT_EQ(Tessera({"update", table_, "--set", "nope = 1"}).exit_code, 2);
  EXPECT_EQ(Tessera({"update", table_, "--set", "= 1"}).exit_code, 1);
  EXPECT_EQ(Ok({"count", table_}).out, "6\n");
}

// `inspect` reads a table's files wherever the table lives.
TEST_P(CliIngestTest, InspectReadsTheTablesFiles) {
  Ok({"create", table_, "--schema", "id:int64,vector:vector[3]"});
  std::ofstream(dir_ / "rows.jsonl") << Rows(0, 3);
  Ok({"add", table_, (dir_ / "rows.jsonl").string()});
  const CliRun run = Ok({"inspect", table_ + "/_versions/2.manifest"});
  EXPECT_NE(run.out.find("\"version\": 2"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("\"operation\": \"add\""), std::string::npos) << run.out;
  EXPECT_EQ(Tessera({"inspect", table_ + "/_versions/9.manifest"}).exit_code, 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, CliIngestTest, test::LocalAndS3(), test::BackendParamName);

// The demo runs on a local directory (its CSV, chart and logs beside the table).
class CliDemoTest : public CliIngestTest {};

// The README's main job, small: every stage runs and the numbers come out.
TEST_P(CliDemoTest, DemoRunsThePipelineEndToEnd) {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) {
    if (std::getenv("CI") != nullptr) FAIL() << "dataset-fashion-mnist is not installed";
    GTEST_SKIP() << "dataset-fashion-mnist not installed";
  }
  const std::string demo = (dir_ / "demo").string();
  const CliRun run = Ok({"demo", demo, "--rows", "3000", "--seconds", "4", "--index-after-rows",
                         "1000", "--tail-budget-ms", "0.2"});
  for (const char* expected :
       {"rows (expected)                    3000 (3000)",
        "distinct ids / rows scanned        3000 / 3000", "bad files quarantined              1",
        "query latency p50 / p95 / p99", "recall@10 vs exact, mean / min", "chart:"}) {
    EXPECT_NE(run.out.find(expected), std::string::npos) << expected << "\n" << run.out;
  }
  EXPECT_TRUE(fs::exists(fs::path(demo) / "demo.svg"));
  const std::string csv = ReadAll(fs::path(demo) / "demo.csv");
  EXPECT_TRUE(csv.starts_with("mode,t_s,rows,fragments,unindexed_rows,")) << csv;
  EXPECT_NE(ReadAll(fs::path(demo) / "maintain.log").find("run 1 at "), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, CliDemoTest, ::testing::Values(test::Backend::kLocal),
                         test::BackendParamName);

}  // namespace
}  // namespace tessera
