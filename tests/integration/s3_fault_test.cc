// Faults between Tessera and a real S3 server (Ceph RGW, started by the test): a proxy written
// in the tests (src/testing/s3_fault_proxy.h) delays, drops, resets and answers 500/503 to
// chosen requests — the commit PUT included, before and after the server applied it. Every
// acknowledged write must be in the table exactly once, and each add exactly one version.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

#include "io/s3_file_system.h"
#include "tessera/table.h"
#include "testing/rgw_server.h"
#include "testing/s3_fault_proxy.h"

namespace tessera {
namespace {

Schema TestSchema() { return Schema::Parse("id:int64 not null,vector:vector[4]").value(); }

RecordBatch Rows(int64_t first, int64_t n) {
  RecordBatchBuilder builder(TestSchema());
  for (int64_t id = first; id < first + n; ++id) {
    const float x = static_cast<float>(id);
    EXPECT_TRUE(builder.AppendRow({Value(id), Value(std::vector<float>{x, 1, 2, 3})}).ok());
  }
  return builder.Finish().value();
}

class S3FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<test::RgwEndpoint> server = test::RgwServer::Get();
    if (!server.ok()) {
      if (std::getenv("CI") != nullptr) FAIL() << server.status();
      GTEST_SKIP() << server.status();
    }
    server_ = *server;
    proxy_ = test::FaultProxy::Start(server_.endpoint).value();
    direct_ = MakeFs(server_.endpoint);
    ASSERT_TRUE(direct_->CreateBucket("s3://faults").ok());
    through_proxy_ = MakeFs(proxy_->endpoint());
  }

  std::unique_ptr<io::S3FileSystem> MakeFs(const std::string& endpoint) {
    io::S3Options options;
    options.endpoint = endpoint;
    options.access_key_id = server_.access_key_id;
    options.secret_access_key = server_.secret_access_key;
    options.region = server_.region;
    options.backoff_base_ms = 5;
    options.backoff_max_ms = 100;
    options.max_attempts = 8;
    return io::S3FileSystem::Create(options).value();
  }

  test::RgwEndpoint server_;
  std::unique_ptr<test::FaultProxy> proxy_;
  std::unique_ptr<io::S3FileSystem> direct_;
  std::unique_ptr<io::S3FileSystem> through_proxy_;
};

TEST_F(S3FaultTest, CommitsSurviveFaultsBeforeAndAfterTheServerAppliedThem) {
  std::atomic<int64_t> commits{0};
  std::atomic<int64_t> gets{0};
  std::atomic<int64_t> puts{0};
  proxy_->SetRule([&](const test::ProxiedRequest& request) -> test::FaultAction {
    const bool commit = request.method == "PUT" && request.HasHeader("if-none-match") &&
                        request.target.find("/_versions/") != std::string::npos;
    if (commit) {
      switch (commits.fetch_add(1) % 6) {
        case 0:
          return {test::Fault::kResetAfter};
        case 1:
          return {test::Fault::kError500After};
        case 2:
          return {test::Fault::kDropBefore};
        case 3:
          return {test::Fault::kError500Before};
        case 4:
          return {test::Fault::kDelay, 300};
        default:
          return {};
      }
    }
    if (request.method == "GET") {
      const int64_t n = gets.fetch_add(1);
      if (n % 7 == 3) return {test::Fault::kError503Before};
      if (n % 11 == 5) return {test::Fault::kResetAfter};
    }
    if (request.method == "PUT" && puts.fetch_add(1) % 3 == 1) {  // data files, hints
      return {test::Fault::kError503Before};
    }
    return {};
  });
  TableOptions options;
  options.file_system = through_proxy_.get();
  const std::string uri = "s3://faults/commits";
  auto created = Table::Create(uri, TestSchema(), CreateMode::kCreate, options);
  ASSERT_TRUE(created.ok()) << created.status();
  auto second = Table::Open(uri, options).value();

  // Two writers (two handles, as two hosts) through the faulty proxy.
  std::mutex mu;
  std::set<int64_t> acknowledged;
  std::atomic<int> failures{0};
  auto writer = [&](Table* table, int64_t base) {
    for (int i = 0; i < 12; ++i) {
      auto added = table->Add(Rows(base + i * 10, 10));
      if (!added.ok()) {
        ++failures;
        ADD_FAILURE() << added.status();
        continue;
      }
      std::lock_guard<std::mutex> lock(mu);
      for (int64_t id = base + i * 10; id < base + i * 10 + 10; ++id) acknowledged.insert(id);
    }
  };
  std::thread a(writer, created->get(), 0);
  std::thread b(writer, second.get(), 100000);
  a.join();
  b.join();
  EXPECT_GT(proxy_->faults_injected(), 20);
  EXPECT_EQ(failures.load(), 0);

  // Read back directly (no faults): exactly the acknowledged rows, once each, and one version
  // per add: no commit was lost or applied twice.
  TableOptions clean;
  clean.file_system = direct_.get();
  auto reader = Table::Open(uri, clean).value();
  RecordBatch rows = reader->Scan().value();
  std::multiset<int64_t> ids;
  for (int64_t r = 0; r < rows.num_rows(); ++r) ids.insert(rows.column(0).Int64(r));
  EXPECT_EQ(ids.size(), acknowledged.size());
  EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()), acknowledged);
  EXPECT_EQ(reader->version().value(), 1u + 24u);
}

TEST_F(S3FaultTest, UnresolvableOutcomeIsAnErrorNotAGuess) {
  // The server is unreachable for every request: the commit cannot be resolved, so Add fails
  // with an I/O error, and once the proxy behaves the table holds nothing from it.
  TableOptions options;
  options.file_system = through_proxy_.get();
  const std::string uri = "s3://faults/unresolvable";
  auto table = Table::Create(uri, TestSchema(), CreateMode::kCreate, options).value();
  proxy_->SetRule([](const test::ProxiedRequest& request) -> test::FaultAction {
    if (request.method == "PUT" && request.HasHeader("if-none-match")) {
      return {test::Fault::kDropBefore};
    }
    return {};
  });
  auto added = table->Add(Rows(0, 5));
  EXPECT_FALSE(added.ok());
  EXPECT_TRUE(added.status().IsIOError()) << added.status();
  proxy_->SetRule(nullptr);
  TableOptions clean;
  clean.file_system = direct_.get();
  EXPECT_EQ(Table::Open(uri, clean).value()->CountRows().value(), 0);
  ASSERT_TRUE(table->Add(Rows(10, 5)).ok());
  EXPECT_EQ(Table::Open(uri, clean).value()->CountRows().value(), 5);
}

}  // namespace
}  // namespace tessera
