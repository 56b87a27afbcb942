// Tables on S3 (a real Ceph RADOS Gateway on 127.0.0.1, started by the benchmark through
// scripts/rgw.sh) against local disk, in the same run (issue 7's benchmark):
//   - add latency p50/p99 of 1,000 x 768 batches, and requests per add;
//   - commits, conflicts and retries with 1, 2 and 4 concurrent writers (each its own handle
//     and S3 client, as separate hosts would be);
//   - query latency with a cold and a warm local cache, and requests per query;
//   - requests per open of the latest version.
//
// Run (bench preset): build/bench/bench/s3_benchmark [--adds=30] [--queries=50]
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>

#include "bench_util.h"
#include "io/s3_file_system.h"
#include "tessera/process_metrics.h"
#include "tessera/table.h"
#include "testing/rgw_server.h"

namespace tessera::bench {
namespace {

constexpr int32_t kDim = 768;

std::vector<float> RandomVectors(int64_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> out(static_cast<size_t>(rows) * kDim);
  for (float& v : out) v = normal(rng);
  return out;
}

int64_t Requests(const io::S3Counters& a, const io::S3Counters& b) {
  return (b.get - a.get) + (b.put - a.put) + (b.head - a.head) + (b.list - a.list) +
         (b.del - a.del);
}

std::unique_ptr<io::S3FileSystem> MakeFs(const test::RgwEndpoint& server,
                                         const std::string& cache_dir) {
  io::S3Options options;
  options.endpoint = server.endpoint;
  options.access_key_id = server.access_key_id;
  options.secret_access_key = server.secret_access_key;
  options.region = server.region;
  options.cache_dir = cache_dir;
  return io::S3FileSystem::Create(options).value();
}

int Main(int argc, char** argv) {
  Flags flags(argc, argv);
  const int64_t adds = flags.GetInt("adds", 30);
  const int64_t queries = flags.GetInt("queries", 50);
  if (!flags.CheckAllUsed()) return 1;
  PrintBanner("s3 benchmark", "tables on a Ceph RADOS Gateway (127.0.0.1) vs local disk",
              "build/bench/bench/s3_benchmark [--adds=N] [--queries=N]");
  Result<test::RgwEndpoint> server = test::RgwServer::Get();
  if (!server.ok()) {
    std::fprintf(stderr, "cannot start the gateway: %s\n", server.status().ToString().c_str());
    return 2;
  }
  const std::string scratch = FreshDir("tessera_s3_bench");
  auto s3 = MakeFs(*server, "");
  if (Status st = s3->CreateBucket("s3://bench"); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 2;
  }
  const std::vector<float> batch_vectors = RandomVectors(1000, 1);

  // 1. Add latency and requests per add.
  TextTable add_table({"store", "adds", "p50 ms", "p99 ms", "requests / add"});
  for (int remote = 0; remote < 2; ++remote) {
    TableOptions options;
    if (remote) options.file_system = s3.get();
    const std::string uri = remote ? "s3://bench/adds" : scratch + "/adds";
    auto table = Table::Create(uri, VectorSchema(kDim), CreateMode::kCreate, options).value();
    std::vector<double> ms;
    const io::S3Counters before = s3->counters();
    for (int64_t i = 0; i < adds; ++i) {
      auto batch = MakeVectorBatch(kDim, batch_vectors, i * 1000).value();
      const Stopwatch timer;
      if (auto added = table->Add(batch); !added.ok()) {
        std::fprintf(stderr, "%s\n", added.status().ToString().c_str());
        return 2;
      }
      ms.push_back(timer.Millis());
    }
    const io::S3Counters after = s3->counters();
    add_table.AddRow(
        {remote ? "S3 (RGW)" : "local disk", Count(adds), Fixed(Percentile(ms, 0.5), 1),
         Fixed(Percentile(ms, 0.99), 1),
         remote ? Fixed(static_cast<double>(Requests(before, after)) / adds, 1) : "-"});
  }
  std::printf("\nadd of 1,000 x %d batches\n", kDim);
  add_table.Print();

  // 2. Concurrent writers: conflicts and retries.
  TextTable conflict_table({"store", "writers", "commits", "conflicts", "retries", "adds/s"});
  for (int remote = 0; remote < 2; ++remote) {
    for (int writers : {1, 2, 4}) {
      const std::string uri = remote ? "s3://bench/writers" + std::to_string(writers)
                                     : scratch + "/writers" + std::to_string(writers);
      std::vector<std::unique_ptr<io::S3FileSystem>> clients;
      TableOptions create_options;
      if (remote) create_options.file_system = s3.get();
      (void)Table::Create(uri, VectorSchema(kDim), CreateMode::kCreate, create_options).value();
      ProcessMetrics& metrics = ProcessMetrics::Get();
      const int64_t conflicts0 = metrics.commit_conflicts.load();
      const int64_t retries0 = metrics.commit_retries.load();
      const Stopwatch timer;
      std::vector<std::thread> threads;
      const int64_t per_writer = std::max<int64_t>(adds / writers, 5);
      for (int w = 0; w < writers; ++w) {
        if (remote) clients.push_back(MakeFs(*server, ""));
        threads.emplace_back([&, w] {
          TableOptions options;
          if (remote) options.file_system = clients[static_cast<size_t>(w)].get();
          auto table = Table::Open(uri, options).value();
          for (int64_t i = 0; i < per_writer; ++i) {
            auto batch =
                MakeVectorBatch(kDim, std::span<const float>(batch_vectors.data(), 100 * kDim),
                                (w * 1000000) + i * 100)
                    .value();
            if (!table->Add(batch).ok()) std::fprintf(stderr, "add failed\n");
          }
        });
      }
      for (auto& t : threads) t.join();
      const double seconds = timer.Seconds();
      conflict_table.AddRow({remote ? "S3 (RGW)" : "local disk", std::to_string(writers),
                             Count(per_writer * writers),
                             Count(metrics.commit_conflicts.load() - conflicts0),
                             Count(metrics.commit_retries.load() - retries0),
                             Fixed(static_cast<double>(per_writer * writers) / seconds, 1)});
    }
  }
  std::printf("\nconcurrent writers (100-row adds, each writer its own handle and client)\n");
  conflict_table.Print();

  // 3. Queries cold and warm, requests per query; 4. requests per open.
  TextTable query_table({"store", "cache", "p50 ms", "p99 ms", "requests / query"});
  const std::string cache_dir = scratch + "/cache";
  auto cached = MakeFs(*server, cache_dir);
  int64_t open_requests = 0;
  // local, S3 cold, S3 warm, S3 warm with read_consistency_interval_ms = 1000
  for (int mode = 0; mode < 4; ++mode) {
    TableOptions options;
    if (mode > 0) options.file_system = cached.get();
    if (mode == 3) options.read_consistency_interval_ms = 1000;
    const std::string uri = mode == 0 ? scratch + "/adds" : "s3://bench/adds";
    if (mode == 1) std::filesystem::remove_all(cache_dir);
    const io::S3Counters before_open = cached->counters();
    auto table = Table::Open(uri, options).value();
    if (mode == 1) open_requests = Requests(before_open, cached->counters());
    std::vector<double> ms;
    const io::S3Counters before = cached->counters();
    for (int64_t q = 0; q < queries; ++q) {
      const std::span<const float> query(batch_vectors.data() + (q % 1000) * kDim, kDim);
      const Stopwatch timer;
      if (auto result = table->Search(query).Limit(10).Execute(); !result.ok()) {
        std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
        return 2;
      }
      ms.push_back(timer.Millis());
      if (mode == 1 && q == 0) break;  // cold: the first query only
    }
    const io::S3Counters after = cached->counters();
    query_table.AddRow(
        {mode == 0 ? "local disk" : "S3 (RGW)",
         mode == 0 ? "-" : (mode == 1 ? "cold" : (mode == 2 ? "warm" : "warm, 1 s stale")),
         Fixed(Percentile(ms, 0.5), 1), Fixed(Percentile(ms, 0.99), 1),
         mode == 0
             ? "-"
             : Fixed(static_cast<double>(Requests(before, after)) / static_cast<double>(ms.size()),
                     1)});
  }
  std::printf("\nflat-scan query over %s rows (k=10)\n", Count(adds * 1000).c_str());
  query_table.Print();
  std::printf("\nrequests to open the latest of %s versions: %lld\n", Count(adds + 1).c_str(),
              static_cast<long long>(open_requests));
  return 0;
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) { return tessera::bench::Main(argc, argv); }
