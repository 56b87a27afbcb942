// The defaults are part of the product: a user who never tunes gets recall@10 >= 0.95 on real
// data. Fashion-MNIST (Debian's dataset-fashion-mnist): the 60,000 training images as the table,
// test images as queries, ground truth by exact search computed here.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "format/idx_reader.h"
#include "io/file_system.h"
#include "tessera/table.h"

namespace tessera {
namespace {

constexpr int kDim = 784;
constexpr int64_t kQueries = 300;

std::vector<float> Load(const char* file, int64_t max_items) {
  auto data =
      format::ReadIdxFile(std::string("/usr/share/datasets/fashion-mnist/") + file, max_items);
  return data.ok() ? format::IdxToFloatVectors(*data) : std::vector<float>{};
}

std::set<int64_t> Ids(const RecordBatch& batch) {
  std::set<int64_t> ids;
  const int index = batch.schema().FieldIndex("id");
  for (int64_t row = 0; row < batch.num_rows(); ++row) ids.insert(batch.column(index).Int64(row));
  return ids;
}

TEST(DefaultRecallTest, IvfHnswSqAtDefaultParametersOnFashionMnist) {
  const std::vector<float> base = Load("train-images-idx3-ubyte.gz", 60000);
  const std::vector<float> queries = Load("t10k-images-idx3-ubyte.gz", kQueries);
  if (base.empty() || queries.empty()) {
    if (std::getenv("CI") != nullptr) FAIL() << "dataset-fashion-mnist is not installed";
    GTEST_SKIP() << "dataset-fashion-mnist not installed";
  }
  const int64_t num_rows = static_cast<int64_t>(base.size()) / kDim;
  ASSERT_EQ(num_rows, 60000);
  auto fs = io::NewMemoryFileSystem();
  TableOptions options;
  options.file_system = fs.get();
  const Schema schema = Schema::Parse("id:int64 not null,vector:vector[784]").value();
  auto table = Table::Create("/fashion", schema, CreateMode::kCreate, options).value();
  for (int64_t first = 0; first < num_rows; first += 10000) {
    RecordBatchBuilder builder(schema);
    for (int64_t row = first; row < first + 10000; ++row) {
      std::vector<float> v(base.begin() + row * kDim, base.begin() + (row + 1) * kDim);
      ASSERT_TRUE(builder.AppendRow({Value(row), Value(std::move(v))}).ok());
    }
    ASSERT_TRUE(table->Add(builder.Finish().value()).ok());
  }
  const auto build_start = std::chrono::steady_clock::now();
  ASSERT_TRUE(table->CreateIndex("vector").ok());  // every parameter at its default
  const double build_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - build_start).count();
  const IndexInfo info = table->IndexStats("vector_idx").value();
  EXPECT_EQ(info.type, "IVF_HNSW_SQ");
  EXPECT_EQ(info.num_indexed_rows, num_rows);
  EXPECT_EQ(info.num_unindexed_rows, 0);

  int64_t hits = 0;
  double search_s = 0;
  for (int64_t q = 0; q < kQueries; ++q) {
    const std::span<const float> query(queries.data() + q * kDim, kDim);
    auto exact = table->Search(query).Limit(10).BypassVectorIndex().Execute();
    ASSERT_TRUE(exact.ok()) << exact.status().ToString();
    const auto start = std::chrono::steady_clock::now();
    auto found = table->Search(query).Limit(10).Execute();  // default nprobes, ef, refine
    search_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    ASSERT_EQ(found->num_rows(), 10);
    const std::set<int64_t> truth = Ids(*exact);
    for (int64_t id : Ids(*found)) hits += truth.count(id);
  }
  const double recall = static_cast<double>(hits) / static_cast<double>(kQueries * 10);
  std::printf(
      "fashion-mnist 60k, IVF_HNSW_SQ defaults (%s): recall@10 %.4f; build %.1f s, %.0f queries/s "
      "(sanitizer build: for speed see bench/)\n",
      info.params_json.c_str(), recall, build_s, static_cast<double>(kQueries) / search_s);
  EXPECT_GE(recall, 0.95);
}

}  // namespace
}  // namespace tessera
