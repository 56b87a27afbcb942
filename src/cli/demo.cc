// The storage demo: stream micro-batches of real Fashion-MNIST vectors into a table, watch
// fragments and versions grow, delete, time-travel, tag and restore, and print the numbers an
// operator watches.
#include "cli/demo.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "format/idx_reader.h"
#include "tessera/table.h"

namespace tessera::cli {
namespace {

constexpr char kImages[] = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
constexpr char kLabels[] = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz";
constexpr const char* kClassNames[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                       "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

struct DemoOptions {
  std::string dir = "tessera-demo";
  int64_t rows = 30000;
  int64_t batch_rows = 1000;
};

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * values.size()))];
}

int64_t DirBytes(const std::string& dir) {
  int64_t total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) total += static_cast<int64_t>(entry.file_size());
  }
  return total;
}

int Fail(const Status& status) {
  std::fprintf(stderr, "tessera: demo: %s\n", status.ToString().c_str());
  return 2;
}

#define DEMO_CHECK(expr)             \
  do {                               \
    ::tessera::Status _st = (expr);  \
    if (!_st.ok()) return Fail(_st); \
  } while (0)

#define DEMO_ASSIGN(lhs, rexpr)                                                                 \
  auto TESSERA_CONCAT(_r_, __LINE__) = (rexpr);                                                 \
  if (!TESSERA_CONCAT(_r_, __LINE__).ok()) return Fail(TESSERA_CONCAT(_r_, __LINE__).status()); \
  lhs = std::move(TESSERA_CONCAT(_r_, __LINE__)).value()

Status ParseArgs(const std::vector<std::string>& args, DemoOptions* options) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> Result<int64_t> {
      if (i + 1 >= args.size()) return Status::InvalidArgument(arg, " needs a value");
      try {
        return std::stoll(args[++i]);
      } catch (...) {
        return Status::InvalidArgument(arg, " needs an integer, got '", args[i], "'");
      }
    };
    if (arg == "--rows") {
      TESSERA_ASSIGN_OR_RETURN(options->rows, value());
    } else if (arg == "--batch-rows") {
      TESSERA_ASSIGN_OR_RETURN(options->batch_rows, value());
    } else if (arg.starts_with("--")) {
      return Status::InvalidArgument("unknown flag ", arg);
    } else {
      options->dir = arg;
    }
  }
  if (options->rows < 1 || options->rows > 60000) {
    return Status::InvalidArgument("--rows must be within 1..60000 (the Fashion-MNIST train set)");
  }
  if (options->batch_rows < 1) return Status::InvalidArgument("--batch-rows must be >= 1");
  return Status::OK();
}

}  // namespace

int RunDemo(const std::vector<std::string>& args) {
  DemoOptions options;
  DEMO_CHECK(ParseArgs(args, &options));
  std::printf(
      "Tessera storage demo: streaming %lld Fashion-MNIST vectors (784-d) into '%s' in "
      "micro-batches of %lld rows\n\n",
      static_cast<long long>(options.rows), options.dir.c_str(),
      static_cast<long long>(options.batch_rows));
  DEMO_ASSIGN(format::IdxData images, format::ReadIdxFile(kImages, options.rows));
  DEMO_ASSIGN(format::IdxData labels, format::ReadIdxFile(kLabels, options.rows));
  const std::vector<float> vectors = format::IdxToFloatVectors(images);

  std::error_code ec;
  std::filesystem::remove_all(options.dir, ec);
  DEMO_ASSIGN(Schema schema,
              Schema::Parse("id:int64 not null,label:int32,category:utf8,vector:vector[784]"));
  DEMO_ASSIGN(auto table, Table::Create(options.dir, schema));

  // 1. Stream micro-batches; each add is one fragment and one version.
  std::vector<double> add_ms;
  std::printf("%8s %8s %10s %10s %10s\n", "version", "rows", "fragments", "add_ms", "bytes");
  const auto stream_start = std::chrono::steady_clock::now();
  for (int64_t first = 0; first < images.num_items; first += options.batch_rows) {
    const int64_t n = std::min(options.batch_rows, images.num_items - first);
    RecordBatchBuilder builder(schema);
    for (int64_t row = first; row < first + n; ++row) {
      const int label = labels.values[static_cast<size_t>(row)];
      std::vector<float> v(vectors.begin() + row * 784, vectors.begin() + (row + 1) * 784);
      DEMO_CHECK(builder.AppendRow(
          {Value(row), Value(int64_t{label}), Value(kClassNames[label]), Value(std::move(v))}));
    }
    DEMO_ASSIGN(RecordBatch batch, builder.Finish());
    const auto start = std::chrono::steady_clock::now();
    DEMO_ASSIGN(AddResult added, table->Add(batch));
    add_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
    DEMO_ASSIGN(int64_t rows, table->CountRows());
    const int64_t batches = first / options.batch_rows + 1;
    if (batches <= 5 || batches % 5 == 0 || first + n >= images.num_items) {
      std::printf("%8llu %8lld %10lld %10.2f %10lld\n",
                  static_cast<unsigned long long>(added.version), static_cast<long long>(rows),
                  static_cast<long long>(batches), add_ms.back(),
                  static_cast<long long>(DirBytes(options.dir)));
    }
  }
  const double stream_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stream_start).count();
  DEMO_ASSIGN(uint64_t streamed_version, table->version());
  DEMO_CHECK(table->CreateTag("after-stream", streamed_version));

  // 2. A filtered count and a delete (no UPDATE: a change is a delete plus an add).
  DEMO_ASSIGN(int64_t boots, table->CountRows("category = 'Ankle boot'"));
  std::printf("\nrows with category = 'Ankle boot': %lld\n", static_cast<long long>(boots));
  DEMO_ASSIGN(DeleteResult deleted, table->DeleteRows("label = 9"));
  DEMO_ASSIGN(int64_t after_delete, table->CountRows());
  std::printf("delete where label = 9: %lld rows deleted as version %llu; %lld rows remain\n",
              static_cast<long long>(deleted.num_deleted_rows),
              static_cast<unsigned long long>(deleted.version),
              static_cast<long long>(after_delete));

  // 3. Time travel: an old version is a read-only view.
  DEMO_CHECK(table->Checkout(5));
  DEMO_ASSIGN(int64_t at5, table->CountRows());
  std::printf("time travel: version 5 has %lld rows\n", static_cast<long long>(at5));
  DEMO_CHECK(table->CheckoutTag("after-stream"));
  DEMO_ASSIGN(int64_t at_tag, table->CountRows("label = 9"));
  std::printf("time travel: tag 'after-stream' (version %llu) still has %lld rows with label 9\n",
              static_cast<unsigned long long>(streamed_version), static_cast<long long>(at_tag));
  DEMO_CHECK(table->CheckoutLatest());

  // 4. Restore the pre-delete state as a new version.
  DEMO_ASSIGN(uint64_t restored, table->Restore(streamed_version));
  DEMO_ASSIGN(int64_t after_restore, table->CountRows());
  std::printf("restore version %llu as version %llu: %lld rows\n",
              static_cast<unsigned long long>(streamed_version),
              static_cast<unsigned long long>(restored), static_cast<long long>(after_restore));

  // 5. The operator's numbers.
  DEMO_ASSIGN(std::vector<VersionInfo> versions, table->ListVersions());
  std::printf("\nlast versions:\n%8s  %-10s %8s %10s %10s\n", "version", "operation", "rows",
              "fragments", "ms");
  for (size_t i = versions.size() > 5 ? versions.size() - 5 : 0; i < versions.size(); ++i) {
    const VersionInfo& v = versions[i];
    std::printf("%8llu  %-10s %8lld %10lld %10.2f\n", static_cast<unsigned long long>(v.version),
                v.operation.c_str(), static_cast<long long>(v.num_rows),
                static_cast<long long>(v.num_fragments), v.duration_us / 1000.0);
  }
  std::printf("\nsummary\n");
  std::printf("  rows                 %lld\n", static_cast<long long>(after_restore));
  std::printf("  versions             %zu\n", versions.size());
  std::printf("  fragments            %lld\n",
              static_cast<long long>(versions.back().num_fragments));
  std::printf("  bytes on disk        %lld\n", static_cast<long long>(DirBytes(options.dir)));
  std::printf("  ingest throughput    %.0f rows/s\n",
              static_cast<double>(images.num_items) / stream_s);
  std::printf("  add latency p50/p95/p99  %.2f / %.2f / %.2f ms\n", Percentile(add_ms, 0.5),
              Percentile(add_ms, 0.95), Percentile(add_ms, 0.99));
  std::printf(
      "\ninspect it: tessera versions %s | tessera scan %s --limit 3 --select id,category\n",
      options.dir.c_str(), options.dir.c_str());
  return 0;
}

}  // namespace tessera::cli
