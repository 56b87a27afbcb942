#include "bench_util.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <random>
#include <thread>
#include <unordered_set>

#include "format/idx_reader.h"
#include "index/simd/distance.h"

namespace tessera::bench {

Result<Dataset> LoadFashionMnist(int64_t num_base, int64_t num_queries) {
  const std::string dir = kFashionMnistDir;
  auto train = format::ReadIdxFile(dir + "train-images-idx3-ubyte.gz", num_base);
  if (!train.ok()) {
    return train.status().WithContext("Fashion-MNIST (apt-get install dataset-fashion-mnist)");
  }
  auto test = format::ReadIdxFile(dir + "t10k-images-idx3-ubyte.gz", num_queries);
  if (!test.ok()) return test.status().WithContext("Fashion-MNIST test images");
  Dataset data;
  data.name = "fashion-mnist";
  data.dim = static_cast<int32_t>(train->item_size);
  data.base = format::IdxToFloatVectors(*train);
  data.queries = format::IdxToFloatVectors(*test);
  return data;
}

Dataset MakeClustered(int64_t num_base, int64_t num_queries, int32_t dim, int32_t num_clusters,
                      uint64_t seed) {
  constexpr int32_t kLatentDim = 16;
  constexpr float kLatentStd = 0.3f;
  constexpr float kNoiseStd = 0.05f;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> centers(static_cast<size_t>(num_clusters) * dim);
  for (float& value : centers) value = uniform(rng);
  // basis[d * kLatentDim + j]: dimension d of latent direction j; scaled so that each output
  // dimension has standard deviation kLatentStd.
  std::vector<float> basis(static_cast<size_t>(dim) * kLatentDim);
  const float basis_scale = kLatentStd / std::sqrt(static_cast<float>(kLatentDim));
  for (float& value : basis) value = normal(rng) * basis_scale;

  Dataset data;
  data.name = "clustered-" + std::to_string(dim) + "d";
  data.dim = dim;
  const auto generate = [&](int64_t num_rows, uint64_t stream, std::vector<float>* out) {
    out->resize(static_cast<size_t>(num_rows) * dim);
    // Rows are generated in blocks from independent streams so that the result does not depend
    // on the number of threads.
    constexpr int64_t kBlockRows = 4096;
    const int64_t num_blocks = (num_rows + kBlockRows - 1) / kBlockRows;
    std::atomic<int64_t> next{0};
    auto worker = [&] {
      float latent[kLatentDim];
      for (int64_t block = next++; block < num_blocks; block = next++) {
        std::mt19937_64 block_rng(seed ^ (stream * 0x9E3779B97F4A7C15ull) ^
                                  (static_cast<uint64_t>(block) * 0xD1B54A32D192ED03ull));
        std::normal_distribution<float> block_normal(0.0f, 1.0f);
        const int64_t end = std::min(num_rows, (block + 1) * kBlockRows);
        for (int64_t row = block * kBlockRows; row < end; ++row) {
          const int64_t cluster = static_cast<int64_t>(block_rng() % num_clusters);
          for (float& value : latent) value = block_normal(block_rng);
          float* dst = out->data() + row * dim;
          const float* center = centers.data() + cluster * dim;
          for (int32_t d = 0; d < dim; ++d) {
            float value = center[d] + kNoiseStd * block_normal(block_rng);
            for (int32_t j = 0; j < kLatentDim; ++j) value += basis[d * kLatentDim + j] * latent[j];
            dst[d] = value;
          }
        }
      }
    };
    std::vector<std::thread> threads;
    const unsigned num_threads = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned t = 0; t < num_threads; ++t) threads.emplace_back(worker);
    for (auto& thread : threads) thread.join();
  };
  generate(num_base, 1, &data.base);
  generate(num_queries, 2, &data.queries);
  return data;
}

std::vector<std::vector<uint64_t>> ExactNeighbors(std::span<const float> base,
                                                  std::span<const float> queries, int32_t dim,
                                                  int32_t k, int num_threads) {
  const int64_t num_base = static_cast<int64_t>(base.size()) / dim;
  const int64_t num_queries = static_cast<int64_t>(queries.size()) / dim;
  std::vector<std::vector<uint64_t>> truth(num_queries);
  const auto& kernels = index::simd::BestKernels();
  std::atomic<int64_t> next{0};
  auto worker = [&] {
    std::vector<float> distances(num_base);
    std::vector<std::pair<float, uint64_t>> best;
    for (int64_t query = next++; query < num_queries; query = next++) {
      kernels.l2_squared_batch(queries.data() + query * dim, base.data(), num_base, dim,
                               distances.data());
      best.clear();
      for (int64_t row = 0; row < num_base; ++row) {
        if (static_cast<int32_t>(best.size()) == k && distances[row] >= best.front().first) {
          continue;
        }
        best.push_back({distances[row], static_cast<uint64_t>(row)});
        std::push_heap(best.begin(), best.end());
        if (static_cast<int32_t>(best.size()) > k) {
          std::pop_heap(best.begin(), best.end());
          best.pop_back();
        }
      }
      std::sort_heap(best.begin(), best.end());
      for (const auto& [distance, row] : best) truth[query].push_back(row);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, num_threads); ++t) threads.emplace_back(worker);
  for (auto& thread : threads) thread.join();
  return truth;
}

double Recall(const std::vector<std::vector<uint64_t>>& found,
              const std::vector<std::vector<uint64_t>>& truth) {
  size_t hits = 0;
  size_t total = 0;
  for (size_t query = 0; query < truth.size(); ++query) {
    const std::unordered_set<uint64_t> expected(truth[query].begin(), truth[query].end());
    if (query < found.size()) {
      for (uint64_t id : found[query]) hits += expected.count(id);
    }
    total += truth[query].size();
  }
  return total == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(total);
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(p * static_cast<double>(values.size()));
  const size_t idx = static_cast<size_t>(std::max(1.0, rank)) - 1;
  return values[std::min(idx, values.size() - 1)];
}

double Mean(const std::vector<double>& values) {
  if (values.empty()) return 0;
  double sum = 0;
  for (double value : values) sum += value;
  return sum / static_cast<double>(values.size());
}

Flags::Flags(int argc, char** argv) {
  for (int arg = 1; arg < argc; ++arg) {
    std::string_view text = argv[arg];
    if (text.substr(0, 2) == "--") text.remove_prefix(2);
    const size_t eq = text.find('=');
    if (eq == std::string_view::npos) {
      flags_.emplace_back(std::string(text), "true");
    } else {
      flags_.emplace_back(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
    }
  }
  used_.assign(flags_.size(), false);
}

const std::string* Flags::Find(std::string_view name) {
  const std::string* found = nullptr;
  for (size_t idx = 0; idx < flags_.size(); ++idx) {
    if (flags_[idx].first == name) {
      used_[idx] = true;
      found = &flags_[idx].second;  // the last occurrence wins
    }
  }
  return found;
}

int64_t Flags::GetInt(std::string_view name, int64_t default_value) {
  const std::string* value = Find(name);
  return value == nullptr ? default_value : std::stoll(*value);
}

double Flags::GetDouble(std::string_view name, double default_value) {
  const std::string* value = Find(name);
  return value == nullptr ? default_value : std::stod(*value);
}

std::string Flags::GetString(std::string_view name, std::string_view default_value) {
  const std::string* value = Find(name);
  return value == nullptr ? std::string(default_value) : *value;
}

bool Flags::GetBool(std::string_view name) {
  const std::string* value = Find(name);
  return value != nullptr && *value != "false" && *value != "0";
}

bool Flags::CheckAllUsed() const {
  bool ok = true;
  for (size_t idx = 0; idx < flags_.size(); ++idx) {
    if (!used_[idx]) {
      std::fprintf(stderr, "unknown flag --%s\n", flags_[idx].first.c_str());
      ok = false;
    }
  }
  return ok;
}

void TextTable::Print(FILE* out) const {
  std::vector<size_t> widths(header_.size(), 0);
  for (size_t col = 0; col < header_.size(); ++col) widths[col] = header_[col].size();
  for (const auto& row : rows_) {
    for (size_t col = 0; col < row.size() && col < widths.size(); ++col) {
      widths[col] = std::max(widths[col], row[col].size());
    }
  }
  const auto is_number = [](const std::string& cell) {
    return !cell.empty() && (std::isdigit(static_cast<unsigned char>(cell[0])) || cell[0] == '-' ||
                             cell[0] == '+' || cell[0] == '.');
  };
  const auto print_row = [&](const std::vector<std::string>& row, bool header) {
    std::string line;
    for (size_t col = 0; col < widths.size(); ++col) {
      const std::string cell = col < row.size() ? row[col] : "";
      const std::string pad(widths[col] - std::min(widths[col], cell.size()), ' ');
      if (col > 0) line += "  ";
      line += (!header && is_number(cell)) ? pad + cell : cell + pad;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::fprintf(out, "%s\n", line.c_str());
  };
  size_t total = 0;
  for (size_t width : widths) total += width + 2;
  const std::string rule(total > 2 ? total - 2 : 0, '-');
  print_row(header_, true);
  std::fprintf(out, "%s\n", rule.c_str());
  for (const auto& row : rows_) {
    if (row.empty()) {
      std::fprintf(out, "%s\n", rule.c_str());
    } else {
      print_row(row, false);
    }
  }
  std::fflush(out);
}

std::string Fixed(double value, int precision) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", precision, value);
  return buffer;
}

std::string Count(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (size_t idx = 0; idx < digits.size(); ++idx) {
    if (idx > 0 && (digits.size() - idx) % 3 == 0) out += ',';
    out += digits[idx];
  }
  return value < 0 ? "-" + out : out;
}

void PrintBanner(std::string_view title, std::string_view what, std::string_view command) {
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M", std::localtime(&now));
  const auto& kernels = index::simd::BestKernels();
  std::printf("=== %.*s ===\n", static_cast<int>(title.size()), title.data());
  std::printf("%.*s\n", static_cast<int>(what.size()), what.data());
  std::printf("Run:     %.*s\n", static_cast<int>(command.size()), command.data());
  std::printf("Machine: %u hardware threads, Tessera SIMD level %s, %s\n\n",
              std::thread::hardware_concurrency(), index::simd::SimdLevelName(kernels.level), date);
  std::fflush(stdout);
}

std::string FreshDir(std::string_view name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("tessera_bench_" + std::string(name));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

Schema VectorSchema(int32_t dim) {
  return Schema::Make(
             {Field{"id", DataType::Int64(), false}, Field{"vector", DataType::Vector(dim), true}})
      .value();
}

Result<RecordBatch> MakeVectorBatch(int32_t dim, std::span<const float> vectors, int64_t first_id) {
  const int64_t num_rows = static_cast<int64_t>(vectors.size()) / dim;
  std::vector<int64_t> ids(num_rows);
  for (int64_t row = 0; row < num_rows; ++row) ids[row] = first_id + row;
  TESSERA_ASSIGN_OR_RETURN(
      Array id_array,
      Array::Make(DataType::Int64(), num_rows, Buffer{},
                  Buffer::Copy(ids.data(), static_cast<int64_t>(ids.size() * sizeof(int64_t)))));
  TESSERA_ASSIGN_OR_RETURN(
      Array vector_array,
      Array::Make(DataType::Vector(dim), num_rows, Buffer{},
                  Buffer::Copy(vectors.data(), static_cast<int64_t>(vectors.size_bytes()))));
  return RecordBatch::Make(VectorSchema(dim), {std::move(id_array), std::move(vector_array)});
}

Result<std::unique_ptr<Table>> CreateVectorTable(const std::string& path, int32_t dim,
                                                 std::span<const float> vectors,
                                                 int64_t rows_per_fragment) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Create(path, VectorSchema(dim)));
  const int64_t num_rows = static_cast<int64_t>(vectors.size()) / dim;
  for (int64_t first = 0; first < num_rows; first += rows_per_fragment) {
    const int64_t n = std::min(rows_per_fragment, num_rows - first);
    TESSERA_ASSIGN_OR_RETURN(RecordBatch batch,
                             MakeVectorBatch(dim, vectors.subspan(first * dim, n * dim), first));
    TESSERA_ASSIGN_OR_RETURN(AddResult added, table->Add(batch));
    if (added.first_row_id != static_cast<uint64_t>(first)) {
      return Status::Internal("expected row id ", first, ", got ", added.first_row_id);
    }
  }
  return table;
}

Result<std::vector<uint64_t>> RowIdsOf(const RecordBatch& results) {
  TESSERA_ASSIGN_OR_RETURN(Array row_ids, results.ColumnByName("_rowid"));
  std::vector<uint64_t> out(row_ids.length());
  for (int64_t row = 0; row < row_ids.length(); ++row) {
    out[row] = static_cast<uint64_t>(row_ids.Int64(row));
  }
  return out;
}

}  // namespace tessera::bench
