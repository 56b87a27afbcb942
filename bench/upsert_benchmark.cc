// Upsert cost against table size, with and without a BTREE key index on the key column (issue 5:
// "a key column can get a scalar index so that upsert does not scan the table").
//
// For each table size it builds two identical tables (int64 id + a --dim vector, fragments of
// 100,000 rows, compacted), puts a BTREE index on one, then runs --upserts upserts of
// --batch_rows keys each (half existing ids, half new) on both and prints the median and p95
// latency, the table rows the last upsert read by scanning (with the index: the rows earlier
// upserts wrote, which optimize_indices has not indexed yet), and the ratio scan / index. A tail of
// --tail_rows rows added after the index shows the cost of what optimize_indices has not
// indexed yet.
//
// Run (bench preset): build/bench/bench/upsert_benchmark [--sizes=100000,1000000]
//   [--batch_rows=1000] [--upserts=10] [--dim=16] [--tail_rows=10000]
#include <cstdio>
#include <random>
#include <sstream>

#include "bench_util.h"
#include "tessera/table.h"

namespace tessera::bench {
namespace {

std::vector<int64_t> ParseSizes(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(std::stoll(item));
  }
  return out;
}

Result<std::unique_ptr<Table>> Build(const std::string& path, int64_t rows, int32_t dim) {
  std::vector<float> vectors(static_cast<size_t>(std::min<int64_t>(rows, 100000)) * dim);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(-1, 1);
  for (float& v : vectors) v = uniform(rng);
  TESSERA_ASSIGN_OR_RETURN(auto table, Table::Create(path, VectorSchema(dim), CreateMode::kCreate));
  for (int64_t first = 0; first < rows; first += 100000) {
    const int64_t n = std::min<int64_t>(100000, rows - first);
    TESSERA_ASSIGN_OR_RETURN(
        RecordBatch batch,
        MakeVectorBatch(dim, std::span<const float>(vectors.data(), n * dim), first));
    TESSERA_RETURN_IF_ERROR(table->Add(batch).status());
  }
  return table;
}

int Main(int argc, char** argv) {
  Flags flags(argc, argv);
  const std::vector<int64_t> sizes = ParseSizes(flags.GetString("sizes", "100000,1000000"));
  const int64_t batch_rows = flags.GetInt("batch_rows", 1000);
  const int64_t upserts = flags.GetInt("upserts", 10);
  const int32_t dim = static_cast<int32_t>(flags.GetInt("dim", 16));
  const int64_t tail_rows = flags.GetInt("tail_rows", 10000);
  if (!flags.CheckAllUsed()) return 1;
  PrintBanner("upsert benchmark",
              "upsert of " + Count(batch_rows) + "-key batches, scan vs. BTREE key index",
              "build/bench/bench/upsert_benchmark [--sizes=N,N] [--batch_rows=N] [--upserts=N] "
              "[--dim=N] [--tail_rows=N]");
  TextTable table({"table rows", "tail rows", "method", "p50 ms", "p95 ms", "rows scanned",
                   "scan / index (p50)"});
  const auto fail = [](const Status& status) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 2;
  };
  for (int64_t size : sizes) {
    const std::string dir = FreshDir("tessera_upsert_bench");
    auto indexed = Build(dir + "/indexed", size, dim);
    auto plain = Build(dir + "/plain", size, dim);
    if (!indexed.ok()) return fail(indexed.status());
    if (!plain.ok()) return fail(plain.status());
    IndexConfig btree;
    btree.type = "BTREE";
    const Stopwatch index_time;
    if (Status st = (*indexed)->CreateIndex("id", btree); !st.ok()) return fail(st);
    std::printf("%s rows: BTREE index built in %.2f s\n", Count(size).c_str(),
                index_time.Seconds());
    for (int64_t tail : {int64_t{0}, tail_rows}) {
      if (tail > 0) {  // rows added after the index: the tail an upsert still scans
        std::vector<float> vectors(static_cast<size_t>(tail) * dim, 0.25f);
        for (Table* t : {indexed->get(), plain->get()}) {
          auto batch = MakeVectorBatch(dim, vectors, 10'000'000'000);
          if (!batch.ok()) return fail(batch.status());
          if (auto added = t->Add(*batch); !added.ok()) return fail(added.status());
        }
      }
      double p50[2] = {0, 0};
      for (int method = 0; method < 2; ++method) {
        Table* t = method == 0 ? indexed->get() : plain->get();
        std::vector<double> ms;
        int64_t scanned = 0;
        for (int64_t u = 0; u < upserts; ++u) {
          std::vector<float> vectors(static_cast<size_t>(batch_rows) * dim, 0.5f);
          RecordBatchBuilder builder(VectorSchema(dim));
          for (int64_t r = 0; r < batch_rows; ++r) {
            // Half existing keys, half new ones (distinct within the batch).
            const int64_t id =
                r % 2 == 0 ? (u * batch_rows + r) % size : 20'000'000'000 + u * batch_rows + r;
            Status st = builder.AppendRow(
                {Value(id), Value(std::vector<float>(vectors.begin() + r * dim,
                                                     vectors.begin() + (r + 1) * dim))});
            if (!st.ok()) return fail(st);
          }
          auto source = builder.Finish();
          if (!source.ok()) return fail(source.status());
          UpsertOptions on;
          on.on = {"id"};
          const Stopwatch timer;
          auto result = t->Upsert(*source, on);
          if (!result.ok()) return fail(result.status());
          ms.push_back(timer.Millis());
          scanned = result->rows_scanned;
        }
        p50[method] = Percentile(ms, 0.5);
        table.AddRow({Count(size), Count(tail), method == 0 ? "BTREE index" : "scan",
                      Fixed(Percentile(ms, 0.5), 2), Fixed(Percentile(ms, 0.95), 2), Count(scanned),
                      method == 0 ? "" : Fixed(p50[1] / p50[0], 1) + "x"});
      }
    }
  }
  std::printf("\n");
  table.Print();
  return 0;
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) { return tessera::bench::Main(argc, argv); }
