// Helpers shared by the vector-search benchmarks in bench/: data sets (Fashion-MNIST, a generated
// clustered set), exact ground truth, recall, timing, percentiles, flags, text tables and tables
// filled with vectors. Not part of the library; benchmarks only.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/record_batch.h"
#include "tessera/result.h"
#include "tessera/table.h"

namespace tessera::bench {

// A base set and a query set of the same dimension, row-major.
struct Dataset {
  std::string name;
  int32_t dim = 0;
  std::vector<float> base;     // num_base() * dim
  std::vector<float> queries;  // num_queries() * dim
  int64_t num_base() const { return dim == 0 ? 0 : static_cast<int64_t>(base.size()) / dim; }
  int64_t num_queries() const { return dim == 0 ? 0 : static_cast<int64_t>(queries.size()) / dim; }
  const float* base_row(int64_t row) const { return base.data() + row * dim; }
  const float* query_row(int64_t row) const { return queries.data() + row * dim; }
};

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist/";

// Load Fashion-MNIST (Debian's dataset-fashion-mnist): the first `num_base` training images as
// the base set and the first `num_queries` test images as queries, 784 floats in [0, 1] each.
// Errors: kNotFound when the package is not installed.
Result<Dataset> LoadFashionMnist(int64_t num_base, int64_t num_queries);

// Generate `num_base` + `num_queries` vectors of `dim` floats around `num_clusters` centers
// (uniform in [-1, 1]^dim). Each point is its center plus a gaussian in a random 16-d subspace
// shared by all clusters (std 0.3 per dimension) plus isotropic noise (std 0.05): clustered, with
// a low intrinsic dimension, like real embeddings. Queries come from the same distribution.
Dataset MakeClustered(int64_t num_base, int64_t num_queries, int32_t dim, int32_t num_clusters,
                      uint64_t seed);

// Return the exact `k` nearest base rows (squared L2) of every query, nearest first, computed
// with the SIMD batch kernel on `num_threads` threads.
std::vector<std::vector<uint64_t>> ExactNeighbors(std::span<const float> base,
                                                  std::span<const float> queries, int32_t dim,
                                                  int32_t k, int num_threads);

// Return |found ∩ truth| / |truth| over all queries; found[q] may hold more or fewer ids.
double Recall(const std::vector<std::vector<uint64_t>>& found,
              const std::vector<std::vector<uint64_t>>& truth);

// Return the p-quantile (p in [0, 1]) of `values` (nearest rank); 0 when empty.
double Percentile(std::vector<double> values, double p);
double Mean(const std::vector<double>& values);

// Wall time since construction (or Restart).
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  void Restart() { start_ = std::chrono::steady_clock::now(); }
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  double Millis() const { return Seconds() * 1e3; }
  double Micros() const { return Seconds() * 1e6; }

 private:
  std::chrono::steady_clock::time_point start_;
};

// CPU time of the whole process (every thread) since construction: unlike wall time, it does
// not grow while other processes hold the cores.
class CpuStopwatch {
 public:
  CpuStopwatch() : start_s_(Now()) {}
  double Seconds() const { return Now() - start_s_; }

 private:
  static double Now() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  }
  double start_s_;
};

// "--name=value" and "--name" (= "true") flags. Unknown flags are reported by CheckAllUsed().
class Flags {
 public:
  Flags(int argc, char** argv);
  int64_t GetInt(std::string_view name, int64_t default_value);
  double GetDouble(std::string_view name, double default_value);
  std::string GetString(std::string_view name, std::string_view default_value);
  bool GetBool(std::string_view name);
  // Return false (and print them) if some flags were never asked for.
  bool CheckAllUsed() const;

 private:
  const std::string* Find(std::string_view name);
  std::vector<std::pair<std::string, std::string>> flags_;
  std::vector<bool> used_;
};

// A text table printed with aligned columns; numbers right-aligned.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void AddSeparator() { rows_.emplace_back(); }
  void Print(FILE* out = stdout) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;  // an empty row is a separator
};

// Format `value` with `precision` digits after the point.
std::string Fixed(double value, int precision);
// Format a count with thousands separators ("60,000").
std::string Count(int64_t value);

// Print the banner every benchmark starts with: title, what it measures, how to run it, and the
// machine (cores, SIMD level, date).
void PrintBanner(std::string_view title, std::string_view what, std::string_view command);

// Return a fresh empty directory under the system temp directory.
std::string FreshDir(std::string_view name);

// The schema of the benchmark tables: "id:int64 not null,vector:vector[dim]".
Schema VectorSchema(int32_t dim);
// Return a batch of `num_rows` rows: ids first_id.. and the given vectors (copied).
Result<RecordBatch> MakeVectorBatch(int32_t dim, std::span<const float> vectors, int64_t first_id);
// Create a table at `path` holding `vectors` as fragments of at most `rows_per_fragment` rows
// (ids 0..n-1; row ids 0..n-1, since a new table starts at row id 0).
Result<std::unique_ptr<Table>> CreateVectorTable(const std::string& path, int32_t dim,
                                                 std::span<const float> vectors,
                                                 int64_t rows_per_fragment);

// Return the row ids of the results of a query run WithRowId().
Result<std::vector<uint64_t>> RowIdsOf(const RecordBatch& results);

}  // namespace tessera::bench
