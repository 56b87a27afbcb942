// Appends and deletes from several processes at once never lose or duplicate a row, on local
// disk and on the S3 gateway (each process a separate host with its own cache).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "tessera/table.h"
#include "testing/backend_test.h"

namespace tessera {
namespace {

Schema TestSchema() {
  return Schema::Parse("id:int64 not null,writer:int32,vector:vector[8]").value();
}

RecordBatch MakeBatch(int writer, int64_t first_id, int64_t n) {
  RecordBatchBuilder builder(TestSchema());
  for (int64_t id = first_id; id < first_id + n; ++id) {
    EXPECT_TRUE(builder
                    .AppendRow({Value(id), Value(int64_t{writer}),
                                Value(std::vector<float>(8, static_cast<float>(id)))})
                    .ok());
  }
  return builder.Finish().value();
}

class MultiProcessWritersTest : public test::BackendTest {};

TEST_P(MultiProcessWritersTest, ConcurrentAppendsAndDeletesFromProcesses) {
  const std::string dir = root().Path("table");
  ASSERT_TRUE(Table::Create(dir, TestSchema()).ok());
  constexpr int kWriters = 4;
  constexpr int kAdds = 20;
  constexpr int kRows = 10;
  std::vector<pid_t> children;
  for (int writer = 0; writer < kWriters; ++writer) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto table = Table::Open(dir, test::HostOptions(root(), "writer" + std::to_string(writer)));
      if (!table.ok()) _exit(3);
      for (int i = 0; i < kAdds; ++i) {
        const int64_t first = (writer * kAdds + i) * kRows;
        if (!(*table)->Add(MakeBatch(writer, first, kRows)).ok()) _exit(4);
        // Every writer also deletes the first row of each of its adds.
        if (!(*table)->DeleteRows("id = " + std::to_string(first)).ok()) _exit(5);
      }
      _exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int wstatus = 0;
    waitpid(pid, &wstatus, 0);
    ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << "writer failed: " << wstatus;
  }
  auto table = Table::Open(dir).value();
  EXPECT_EQ(table->version().value(), 1u + 2 * kWriters * kAdds);
  ScanOptions options;
  options.columns = {"id"};
  options.with_row_id = true;
  RecordBatch batch = table->Scan(options).value();
  std::map<int64_t, int> ids;
  std::map<int64_t, int> row_ids;
  for (int64_t row = 0; row < batch.num_rows(); ++row) {
    ++ids[batch.column(0).Int64(row)];
    ++row_ids[batch.column(1).Int64(row)];
  }
  EXPECT_EQ(batch.num_rows(), kWriters * kAdds * (kRows - 1));
  for (int64_t id = 0; id < kWriters * kAdds * kRows; ++id) {
    EXPECT_EQ(ids[id], id % kRows == 0 ? 0 : 1) << id;
  }
  for (const auto& [row_id, count] : row_ids) EXPECT_EQ(count, 1) << row_id;
}

INSTANTIATE_TEST_SUITE_P(Backends, MultiProcessWritersTest, test::LocalAndS3(),
                         test::BackendParamName);

}  // namespace
}  // namespace tessera
