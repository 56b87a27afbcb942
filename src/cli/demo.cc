// `tessera demo`: the whole streaming pipeline on one machine, with nothing to configure.
//
//   producer (thread)   drops Arrow files of real Fashion-MNIST vectors into DIR/incoming,
//                       written under a dot-name and renamed when complete, plus one bad file
//   ingest (process)    `tessera ingest DIR/table --watch DIR/incoming --trigger 1s`: the
//                       auto-loader, exactly once per file, bad files to the quarantine
//   maintain (process)  `tessera maintain DIR/table --adaptive --tail-budget-ms B`: optimize on
//                       its own adaptive cadence
//   queries (thread)    nearest-neighbour queries from the Fashion-MNIST test set, all the time;
//                       every 10th is also answered exactly at the same version for recall@10
//   this thread         creates the vector index once enough rows arrived, samples the
//                       operator's numbers every second, draws the live view, and at the end
//                       prints a summary and writes DIR/demo.csv and DIR/demo.svg.
#include "cli/demo.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "base/subprocess.h"
#include "format/arrow_ipc_writer.h"
#include "format/idx_reader.h"
#include "io/file_system.h"
#include "maintenance/timeline.h"
#include "tessera/table.h"

namespace tessera::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr char kTrainImages[] = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
constexpr char kTrainLabels[] = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz";
constexpr char kTestImages[] = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
constexpr const char* kClassNames[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                       "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
constexpr int kDim = 784;
constexpr int kQueries = 1000;  // distinct query vectors, cycled
constexpr int kRecallEvery = 10;

struct DemoOptions {
  std::string dir = "tessera-demo";
  int64_t rows = 60000;
  double seconds = 120;          // how long the producer takes to drop every row
  double tail_budget_ms = 2;     // the maintainer's adaptive target
  int64_t index_after_rows = 0;  // 0: min(10000, rows / 3)
};

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Result<double> ParseNumber(const std::string& flag, const std::string& text) {
  try {
    size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size() && std::isfinite(value) && value > 0) return value;
  } catch (...) {
  }
  return Status::InvalidArgument(flag, " needs a positive number, got '", text, "'");
}

Status ParseArgs(const std::vector<std::string>& args, DemoOptions* options) {
  bool have_dir = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      return Status::InvalidArgument(
          "usage: tessera demo [DIR] [--rows N (1..60000, default 60000)] [--seconds S "
          "(default 120)] [--tail-budget-ms MS (default 2)] [--index-after-rows N]");
    }
    if (arg.starts_with("--")) {
      if (i + 1 >= args.size()) return Status::InvalidArgument(arg, " needs a value");
      TESSERA_ASSIGN_OR_RETURN(double value, ParseNumber(arg, args[++i]));
      if (arg == "--rows") {
        options->rows = static_cast<int64_t>(value);
      } else if (arg == "--seconds") {
        options->seconds = value;
      } else if (arg == "--tail-budget-ms") {
        options->tail_budget_ms = value;
      } else if (arg == "--index-after-rows") {
        options->index_after_rows = static_cast<int64_t>(value);
      } else {
        return Status::InvalidArgument("unknown flag ", arg);
      }
    } else if (!have_dir) {
      options->dir = arg;
      have_dir = true;
    } else {
      return Status::InvalidArgument("unexpected argument '", arg, "'");
    }
  }
  if (options->rows < 1 || options->rows > 60000) {
    return Status::InvalidArgument("--rows must be within 1..60000 (the Fashion-MNIST train set)");
  }
  if (options->index_after_rows == 0) {
    options->index_after_rows = std::max<int64_t>(1, std::min<int64_t>(10000, options->rows / 3));
  }
  return Status::OK();
}

// Runs of `tessera maintain` so far and the runtime of the last, from its log lines
// ("run N at TIME: ..., optimize S s, ...").
void ReadMaintainLog(const std::string& path, int64_t* runs, double* last_seconds,
                     std::vector<double>* all_seconds) {
  std::ifstream in(path);
  std::string line;
  *runs = 0;
  all_seconds->clear();
  while (std::getline(in, line)) {
    if (!line.starts_with("run ")) continue;
    ++*runs;
    const size_t at = line.find(", optimize ");
    if (at == std::string::npos) continue;
    try {
      *last_seconds = std::stod(line.substr(at + 11));
      all_seconds->push_back(*last_seconds);
    } catch (...) {
    }
  }
}

// Write rows [first, first + n) as an Arrow IPC file, complete before it appears under `path`.
Status WriteArrowFile(const std::string& path, const Schema& schema, const float* vectors,
                      const uint8_t* labels, int64_t first, int64_t n) {
  RecordBatchBuilder builder(schema);
  for (int64_t row = first; row < first + n; ++row) {
    const int label = labels[row];
    std::vector<float> v(vectors + row * kDim, vectors + (row + 1) * kDim);
    TESSERA_RETURN_IF_ERROR(builder.AppendRow(
        {Value(row), Value(int64_t{label}), Value(kClassNames[label]), Value(std::move(v))}));
  }
  TESSERA_ASSIGN_OR_RETURN(RecordBatch batch, builder.Finish());
  const fs::path final_path(path);
  const std::string temp =
      (final_path.parent_path() / ("." + final_path.filename().string() + ".tmp")).string();
  TESSERA_ASSIGN_OR_RETURN(auto file, io::LocalFileSystem()->NewWritableFile(temp));
  TESSERA_ASSIGN_OR_RETURN(auto writer, format::ArrowIpcFileWriter::Open(file.get(), schema));
  TESSERA_RETURN_IF_ERROR(writer->WriteBatch(batch));
  TESSERA_RETURN_IF_ERROR(writer->Finish());
  TESSERA_RETURN_IF_ERROR(file->Sync());
  TESSERA_RETURN_IF_ERROR(file->Close());
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) return Status::IOError("rename '", temp, "': ", ec.message());
  return Status::OK();
}

// Query latencies and recall samples, shared by the query thread and the sampler.
struct QueryWindow {
  std::mutex mu;
  std::vector<double> latencies_ms;  // since the last sample
  std::vector<double> recalls;       // since the last sample
  std::vector<double> all_latencies_ms;
  std::vector<double> all_recalls;
  int64_t errors = 0;
  std::string last_error;
};

void QueryLoop(const std::string& table_dir, const std::vector<float>& queries,
               const std::atomic<bool>& stop, QueryWindow* window) {
  auto opened = Table::Open(table_dir);
  auto probe = Table::Open(table_dir);
  if (!opened.ok() || !probe.ok()) {
    std::lock_guard<std::mutex> lock(window->mu);
    ++window->errors;
    window->last_error = (opened.ok() ? probe.status() : opened.status()).ToString();
    return;
  }
  Table* table = opened->get();
  auto fail = [&](const Status& status) {
    std::lock_guard<std::mutex> lock(window->mu);
    ++window->errors;
    window->last_error = status.ToString();
  };
  for (int64_t i = 0; !stop.load(); ++i) {
    const std::span<const float> query(queries.data() + (i % kQueries) * kDim, kDim);
    const auto start = Clock::now();
    auto result = table->Search(query).Limit(10).Select({"id"}).Execute();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (!result.ok()) {
      fail(result.status());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (result->num_rows() == 0) {  // nothing ingested yet: not a query worth measuring
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    double recall = -1;
    if (i % kRecallEvery == 0) {
      // Both answers at one version: the probe handle is pinned to the latest version first.
      Table* pinned = probe->get();
      Status st = pinned->CheckoutLatest();
      auto version = st.ok() ? pinned->version() : Result<uint64_t>(st);
      if (version.ok()) st = pinned->Checkout(*version);
      if (!version.ok() || !st.ok()) {
        fail(version.ok() ? st : version.status());
        continue;
      }
      auto approx = pinned->Search(query).Limit(10).Select({"id"}).Execute();
      auto exact = pinned->Search(query).Limit(10).Select({"id"}).BypassVectorIndex().Execute();
      if (!approx.ok() || !exact.ok()) {
        fail(approx.ok() ? exact.status() : approx.status());
        continue;
      }
      std::set<int64_t> truth;
      for (int64_t r = 0; r < exact->num_rows(); ++r) truth.insert(exact->column(0).Int64(r));
      int64_t hits = 0;
      for (int64_t r = 0; r < approx->num_rows(); ++r)
        hits += truth.count(approx->column(0).Int64(r));
      if (!truth.empty()) recall = static_cast<double>(hits) / static_cast<double>(truth.size());
    }
    std::lock_guard<std::mutex> lock(window->mu);
    window->latencies_ms.push_back(ms);
    window->all_latencies_ms.push_back(ms);
    if (recall >= 0) {
      window->recalls.push_back(recall);
      window->all_recalls.push_back(recall);
    }
  }
}

std::string Bar(double fraction, int width) {
  const int filled = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * width + 0.5);
  return std::string(filled, '#') + std::string(width - filled, '.');
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "tessera: demo: %s\n", message.c_str());
  return 2;
}

}  // namespace

int RunDemo(const std::vector<std::string>& args) {
  DemoOptions options;
  if (Status st = ParseArgs(args, &options); !st.ok()) return Fail(st.message());
  const bool live = isatty(STDOUT_FILENO) != 0;

  auto images = format::ReadIdxFile(kTrainImages, options.rows);
  auto labels = format::ReadIdxFile(kTrainLabels, options.rows);
  auto test_images = format::ReadIdxFile(kTestImages, kQueries);
  if (!images.ok() || !labels.ok() || !test_images.ok()) {
    const Status st =
        !images.ok() ? images.status() : (!labels.ok() ? labels.status() : test_images.status());
    return Fail(st.ToString() + " (install Debian's dataset-fashion-mnist)");
  }
  const std::vector<float> vectors = format::IdxToFloatVectors(*images);
  const std::vector<float> queries = format::IdxToFloatVectors(*test_images);

  const fs::path dir(options.dir);
  const std::string table_dir = (dir / "table").string();
  const std::string incoming = (dir / "incoming").string();
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(incoming, ec);
  if (ec) return Fail("cannot create '" + incoming + "': " + ec.message());
  auto schema = Schema::Parse("id:int64 not null,label:int32,category:utf8,vector:vector[784]");
  if (!schema.ok()) return Fail(schema.status().ToString());
  auto created = Table::Create(table_dir, *schema);
  if (!created.ok()) return Fail(created.status().ToString());
  std::unique_ptr<Table> table = std::move(*created);

  const int64_t num_files = std::max<int64_t>(1, static_cast<int64_t>(options.seconds));
  const int64_t rows_per_file = (options.rows + num_files - 1) / num_files;
  std::printf(
      "Tessera demo: %lld Fashion-MNIST vectors (784-d) streamed into %s over ~%.0f s\n"
      "  producer   drops a %lld-row Arrow file into %s every %.1f s (and one bad file)\n"
      "  ingest     tessera ingest --watch (process; log %s)\n"
      "  maintain   tessera maintain --adaptive --tail-budget-ms %g (process; log %s)\n"
      "  queries    top-10 searches from the test set, continuously; recall@10 vs exact search\n"
      "  index      IVF_HNSW_SQ created once %lld rows arrived; optimize keeps it up to date\n\n",
      static_cast<long long>(options.rows), table_dir.c_str(), options.seconds,
      static_cast<long long>(rows_per_file), incoming.c_str(),
      options.seconds / static_cast<double>(num_files), (dir / "ingest.log").c_str(),
      options.tail_budget_ms, (dir / "maintain.log").c_str(),
      static_cast<long long>(options.index_after_rows));
  std::fflush(stdout);

  char budget[32];
  std::snprintf(budget, sizeof(budget), "%g", options.tail_budget_ms);
  auto self = base::SelfExecutable();
  if (!self.ok()) return Fail(self.status().ToString());
  auto ingest = base::Spawn(
      *self, {"ingest", table_dir, "--watch", incoming, "--trigger", "1s", "--stream-id", "demo"},
      (dir / "ingest.log").string());
  if (!ingest.ok()) return Fail(ingest.status().ToString());
  auto maintain = base::Spawn(*self,
                              {"maintain", table_dir, "--adaptive", "--tail-budget-ms", budget,
                               "--min-interval", "2s", "--older-than", "1m", "--grace", "1m"},
                              (dir / "maintain.log").string());
  if (!maintain.ok()) {
    base::Terminate(&*ingest, 60);
    return Fail(maintain.status().ToString());
  }

  // Producer.
  const auto start = Clock::now();
  std::atomic<int64_t> produced_rows{0};
  std::atomic<bool> producer_done{false};
  std::string producer_error;
  std::thread producer([&] {
    int64_t file = 0;
    for (int64_t first = 0; first < options.rows; first += rows_per_file, ++file) {
      const auto due =
          start +
          std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
              options.seconds * static_cast<double>(file) / static_cast<double>(num_files)));
      std::this_thread::sleep_until(due);
      const int64_t n = std::min(rows_per_file, options.rows - first);
      char name[64];
      std::snprintf(name, sizeof(name), "batch-%06lld.arrow", static_cast<long long>(file));
      Status st = WriteArrowFile((fs::path(incoming) / name).string(), *schema, vectors.data(),
                                 labels->values.data(), first, n);
      if (!st.ok()) {
        producer_error = st.ToString();
        break;
      }
      produced_rows += n;
      if (file == num_files / 2) {  // a file the loader must quarantine, not half-ingest
        std::ofstream bad(fs::path(incoming) / "bad-vector.jsonl");
        bad << "{\"id\": -1, \"label\": 0, \"vector\": [1, 2, 3]}\n";
      }
    }
    producer_done = true;
  });

  QueryWindow window;
  std::atomic<bool> stop_queries{false};
  std::thread query_thread([&] { QueryLoop(table_dir, queries, stop_queries, &window); });

  std::thread index_thread;
  std::atomic<bool> index_done{false};
  double index_seconds = 0;
  Status index_status;
  maintenance::Timeline timeline{"adaptive maintenance", {}};
  std::vector<double> optimize_seconds;
  int64_t peak_fragments = 0, peak_unindexed = 0;
  std::string failure;
  double caught_up_at = -1;
  int printed_lines = 0;
  while (true) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const double t = Since(start);
    std::string how;
    if (!base::StillRunning(&*ingest, &how)) {
      failure = "the ingest process " + how + ": " + base::LastLineOf(ingest->log);
      break;
    }
    if (!base::StillRunning(&*maintain, &how)) {
      failure = "the maintain process " + how + ": " + base::LastLineOf(maintain->log);
      break;
    }
    auto stats = table->Stats();
    if (!stats.ok()) {
      failure = stats.status().ToString();
      break;
    }
    maintenance::TimelinePoint point;
    point.t_s = t;
    point.rows = stats->num_rows;
    point.fragments = stats->num_fragments;
    point.unindexed_rows = stats->num_unindexed_rows;
    point.index_segments = stats->num_index_segments;
    ReadMaintainLog(maintain->log, &point.optimize_runs, &point.last_optimize_s, &optimize_seconds);
    {
      std::lock_guard<std::mutex> lock(window.mu);
      point.queries = static_cast<int64_t>(window.latencies_ms.size());
      point.p50_ms = maintenance::Quantile(window.latencies_ms, 0.50);
      point.p95_ms = maintenance::Quantile(window.latencies_ms, 0.95);
      point.p99_ms = maintenance::Quantile(window.latencies_ms, 0.99);
      if (!window.recalls.empty()) {
        double sum = 0;
        for (double r : window.recalls) sum += r;
        point.recall = sum / static_cast<double>(window.recalls.size());
      }
      window.latencies_ms.clear();
      window.recalls.clear();
    }
    timeline.points.push_back(point);
    peak_fragments = std::max(peak_fragments, point.fragments);
    peak_unindexed = std::max(peak_unindexed, point.unindexed_rows);

    if (!index_thread.joinable() && point.rows >= options.index_after_rows) {
      index_thread = std::thread([&] {
        auto handle = Table::Open(table_dir);
        const auto index_start = Clock::now();
        index_status = handle.ok() ? (*handle)->CreateIndex("vector") : handle.status();
        index_seconds = Since(index_start);
        index_done = true;
      });
    }

    // The live view: one line per second on a terminal (redrawn block), one every 10 s in logs.
    const std::string index_state = !index_thread.joinable() ? "waiting"
                                    : !index_done            ? "building"
                                    : index_status.ok()
                                        ? std::to_string(point.index_segments) + " segments"
                                        : "failed";
    char line[512];
    std::snprintf(
        line, sizeof(line),
        "%5.0fs rows %6lld/%-6lld [%s] fragments %4lld unindexed %6lld index %-12s "
        "optimize runs %3lld (last %5.2f s) | q/s %4lld p50 %6.2f p95 %6.2f p99 %6.2f ms"
        " recall %s",
        t, static_cast<long long>(point.rows), static_cast<long long>(options.rows),
        Bar(static_cast<double>(point.rows) / static_cast<double>(options.rows), 12).c_str(),
        static_cast<long long>(point.fragments), static_cast<long long>(point.unindexed_rows),
        index_state.c_str(), static_cast<long long>(point.optimize_runs), point.last_optimize_s,
        static_cast<long long>(point.queries), point.p50_ms, point.p95_ms, point.p99_ms,
        point.recall >= 0 ? std::to_string(point.recall).substr(0, 5).c_str() : "  -  ");
    if (live || printed_lines % 10 == 0) {
      std::printf("%s\n", line);
      std::fflush(stdout);
    }
    ++printed_lines;

    if (!producer_error.empty()) {
      failure = "producer: " + producer_error;
      break;
    }
    // Done when every row is in, the index exists and covers (nearly) everything, or a generous
    // time after the producer finished.
    if (producer_done && point.rows >= produced_rows) {
      if (caught_up_at < 0) caught_up_at = t;
      const bool indexed = index_done && point.unindexed_rows <= produced_rows / 50;
      if (indexed || t - caught_up_at > 120) break;
    }
    if (producer_done && t > options.seconds + 600) {
      failure = "ingest did not catch up within 10 minutes of the producer finishing";
      break;
    }
  }
  const double elapsed = Since(start);
  stop_queries = true;
  query_thread.join();
  producer.join();
  if (index_thread.joinable()) index_thread.join();
  // SIGTERM: both finish their current batch or optimize run first.
  base::Terminate(&*ingest, 60);
  base::Terminate(&*maintain, 60);
  if (!failure.empty()) return Fail(failure);
  if (!index_status.ok()) return Fail("create index: " + index_status.ToString());

  // Exactly once: every produced row is present once, the bad file is in the quarantine.
  auto count = table->CountRows();
  ScanOptions scan;
  scan.columns = {"id"};
  std::set<int64_t> ids;
  int64_t scanned = 0;
  Status scan_status = table->ScanBatches(scan, [&](const RecordBatch& batch) {
    for (int64_t r = 0; r < batch.num_rows(); ++r) ids.insert(batch.column(0).Int64(r));
    scanned += batch.num_rows();
    return Status::OK();
  });
  if (!count.ok() || !scan_status.ok()) {
    return Fail((count.ok() ? scan_status : count.status()).ToString());
  }
  int64_t quarantined = 0;
  for (const auto& entry : fs::recursive_directory_iterator(incoming, ec)) {
    if (entry.path().filename() == "bad-vector.jsonl" &&
        entry.path().parent_path() != fs::path(incoming)) {
      ++quarantined;
    }
  }
  auto stats = table->Stats();
  auto versions = table->ListVersions();
  if (!stats.ok() || !versions.ok()) {
    return Fail((stats.ok() ? versions.status() : stats.status()).ToString());
  }

  // The operator's numbers.
  const std::vector<double>& lat = window.all_latencies_ms;
  double recall_sum = 0, recall_min = 1;
  for (double r : window.all_recalls) {
    recall_sum += r;
    recall_min = std::min(recall_min, r);
  }
  const double recall_mean =
      window.all_recalls.empty() ? 0 : recall_sum / static_cast<double>(window.all_recalls.size());
  double optimize_max = 0;
  for (double s : optimize_seconds) optimize_max = std::max(optimize_max, s);
  auto row = [](const char* name, const std::string& value) {
    std::printf("  %-34s %s\n", name, value.c_str());
  };
  auto num = [](double v, const char* fmt = "%.0f") {
    char buf[64];
    std::snprintf(buf, sizeof(buf), fmt, v);
    return std::string(buf);
  };
  std::printf("\nsummary (%.0f s)\n", elapsed);
  row("rows (expected)", num(static_cast<double>(*count)) + " (" +
                             num(static_cast<double>(produced_rows.load())) + ")");
  row("distinct ids / rows scanned",
      num(static_cast<double>(ids.size())) + " / " + num(static_cast<double>(scanned)));
  row("bad files quarantined", num(static_cast<double>(quarantined)));
  row("ingest throughput", num(static_cast<double>(*count) / elapsed) + " rows/s");
  row("fragments now / peak", num(static_cast<double>(stats->num_fragments)) + " / " +
                                  num(static_cast<double>(peak_fragments)));
  row("unindexed rows now / peak", num(static_cast<double>(stats->num_unindexed_rows)) + " / " +
                                       num(static_cast<double>(peak_unindexed)));
  row("index segments", num(static_cast<double>(stats->num_index_segments)));
  row("index build (first)", num(index_seconds, "%.2f") + " s");
  row("optimize runs / p50 / max runtime",
      num(static_cast<double>(optimize_seconds.size())) + " / " +
          num(maintenance::Quantile(optimize_seconds, 0.5), "%.2f") + " s / " +
          num(optimize_max, "%.2f") + " s");
  row("versions committed / kept", num(static_cast<double>(stats->version)) + " / " +
                                       num(static_cast<double>(versions->size())));
  row("queries", num(static_cast<double>(lat.size())) + " (" +
                     num(static_cast<double>(lat.size()) / elapsed, "%.1f") + " q/s), " +
                     num(static_cast<double>(window.errors)) + " errors");
  row("query latency p50 / p95 / p99", num(maintenance::Quantile(lat, 0.50), "%.2f") + " / " +
                                           num(maintenance::Quantile(lat, 0.95), "%.2f") + " / " +
                                           num(maintenance::Quantile(lat, 0.99), "%.2f") + " ms");
  row("recall@10 vs exact, mean / min",
      num(recall_mean, "%.3f") + " / " + num(recall_min, "%.3f") + " (" +
          num(static_cast<double>(window.all_recalls.size())) + " checks)");
  row("bytes on disk", num(static_cast<double>(stats->bytes_on_disk) / 1e6, "%.1f") + " MB");

  const std::string csv = (dir / "demo.csv").string();
  const std::string svg = (dir / "demo.svg").string();
  Status written = maintenance::WriteTextFile(csv, maintenance::TimelinesToCsv({timeline}));
  if (written.ok()) {
    written = maintenance::WriteTextFile(
        svg, maintenance::TimelinesToSvg({timeline},
                                         "tessera demo: streaming ingest, adaptive "
                                         "maintenance, queries"));
  }
  if (!written.ok()) return Fail(written.ToString());
  std::printf("\ntime series: %s\nchart:       %s\nlogs:        %s, %s\n", csv.c_str(), svg.c_str(),
              ingest->log.c_str(), maintain->log.c_str());
  std::printf(
      "explore:     tessera history %s | tessera stats %s | tessera search %s --vector ...\n",
      table_dir.c_str(), table_dir.c_str(), table_dir.c_str());

  if (static_cast<int64_t>(ids.size()) != produced_rows || scanned != produced_rows) {
    return Fail("exactly-once violated: " + std::to_string(scanned) + " rows, " +
                std::to_string(ids.size()) + " distinct ids, " +
                std::to_string(produced_rows.load()) + " produced");
  }
  if (window.errors > 0) return Fail("queries failed: " + window.last_error);
  return 0;
}

}  // namespace tessera::cli
