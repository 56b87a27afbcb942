#include "index/hnsw/hnsw_graph.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <random>
#include <thread>

namespace tessera::index {
namespace {

struct FartherFirst {  // max-heap order
  bool operator()(const HnswCandidate& a, const HnswCandidate& b) const {
    return a.distance < b.distance;
  }
};
struct NearerFirst {  // min-heap order
  bool operator()(const HnswCandidate& a, const HnswCandidate& b) const {
    return a.distance > b.distance;
  }
};

bool Ascending(const HnswCandidate& a, const HnswCandidate& b) {
  return a.distance < b.distance || (a.distance == b.distance && a.node < b.node);
}

}  // namespace

void HnswScratch::Reset(uint32_t num_nodes) {
  if (visited_.size() < num_nodes) {
    visited_.assign(num_nodes, 0);
    stamp_ = 0;
  }
  ++stamp_;
  if (stamp_ == 0) {  // wrapped: old stamps could collide
    std::fill(visited_.begin(), visited_.end(), 0);
    stamp_ = 1;
  }
  num_visited_ = 0;
  candidates.clear();
  results.clear();
}

HnswGraph::HnswGraph(const HnswParams& params, uint32_t num_nodes) : params_(params) {
  levels_.resize(num_nodes);
  std::mt19937_64 rng(params.seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const double level_mult = 1.0 / std::log(static_cast<double>(params.m));
  for (uint32_t node = 0; node < num_nodes; ++node) {
    const double r = uniform(rng);
    const double level = -std::log(std::max(r, 1e-300)) * level_mult;
    levels_[node] = static_cast<uint8_t>(std::min<double>(level, kMaxLevel));
  }
  upper_.assign(ComputeOffsets(), 0);
  level0_.assign(static_cast<size_t>(num_nodes) * level0_stride_, 0);
}

uint64_t HnswGraph::ComputeOffsets() {
  level0_stride_ = 1 + 2 * static_cast<size_t>(params_.m);
  upper_stride_ = 1 + static_cast<size_t>(params_.m);
  const size_t n = levels_.size();
  upper_bits_.assign((n + 63) / 64, 0);
  upper_rank_.assign((n + 63) / 64, 0);
  upper_offsets_.clear();
  uint64_t offset = 0;
  for (size_t node = 0; node < n; ++node) {
    if (node % 64 == 0) upper_rank_[node / 64] = static_cast<uint32_t>(upper_offsets_.size());
    if (levels_[node] == 0) continue;
    upper_bits_[node / 64] |= uint64_t{1} << (node % 64);
    upper_offsets_.push_back(static_cast<uint32_t>(offset));  // the caller rejects > 2^32
    offset += levels_[node] * upper_stride_;
  }
  return offset;
}

Result<HnswGraph> HnswGraph::FromArrays(const HnswParams& params, uint32_t entry_point,
                                        std::vector<uint8_t> levels, std::vector<uint32_t> level0,
                                        std::vector<uint32_t> upper) {
  if (params.m < 2 || params.m > 128 || params.ef_construction < 1) {
    return Status::Corruption("hnsw: bad parameters m=", params.m);
  }
  HnswGraph graph;
  graph.params_ = params;
  graph.levels_ = std::move(levels);
  const uint32_t n = graph.num_nodes();
  int max_level = -1;
  for (uint8_t level : graph.levels_) {
    if (level > kMaxLevel) return Status::Corruption("hnsw: node level ", int{level});
    max_level = std::max<int>(max_level, level);
  }
  const uint64_t upper_size = graph.ComputeOffsets();
  if (upper_size > UINT32_MAX || level0.size() != static_cast<size_t>(n) * graph.level0_stride_ ||
      upper.size() != upper_size) {
    return Status::Corruption("hnsw: link arrays have the wrong size");
  }
  graph.level0_ = std::move(level0);
  graph.upper_ = std::move(upper);
  if (n == 0) {
    if (entry_point != 0) return Status::Corruption("hnsw: entry point in an empty graph");
    return graph;
  }
  if (entry_point >= n || graph.levels_[entry_point] != max_level) {
    return Status::Corruption("hnsw: bad entry point ", entry_point);
  }
  graph.entry_point_ = entry_point;
  graph.max_level_ = max_level;
  for (uint32_t node = 0; node < n; ++node) {
    for (int level = 0; level <= graph.levels_[node]; ++level) {
      const uint32_t* block = graph.Block(node, level);
      if (block[0] > static_cast<uint32_t>(graph.MaxLinks(level))) {
        return Status::Corruption("hnsw: node ", node, " has too many links");
      }
      for (uint32_t link = 1; link <= block[0]; ++link) {
        // A link on `level` must point to a node that exists on that level.
        if (block[link] >= n || graph.levels_[block[link]] < level) {
          return Status::Corruption("hnsw: node ", node, " links to bad node ", block[link]);
        }
      }
    }
  }
  graph.Narrow();
  return graph;
}

void HnswGraph::Narrow() {
  if (narrow_ || num_nodes() > kMaxNarrowNodes) return;
  // Ids < 65,536 and counts <= 256 fit.
  level0_narrow_.assign(level0_.begin(), level0_.end());
  upper_narrow_.assign(upper_.begin(), upper_.end());
  std::vector<uint32_t>().swap(level0_);
  std::vector<uint32_t>().swap(upper_);
  narrow_ = true;
}

std::vector<uint32_t> HnswGraph::level0() const {
  if (!narrow_) return level0_;
  return std::vector<uint32_t>(level0_narrow_.begin(), level0_narrow_.end());
}

std::vector<uint32_t> HnswGraph::upper() const {
  if (!narrow_) return upper_;
  return std::vector<uint32_t>(upper_narrow_.begin(), upper_narrow_.end());
}

std::vector<uint32_t> HnswGraph::Links(uint32_t node, int level) const {
  std::vector<uint32_t> links(2 * static_cast<size_t>(params_.m) + 1);
  links.resize(narrow_ ? CopyLinks<false, uint16_t>(node, level, links.data())
                       : CopyLinks<false, uint32_t>(node, level, links.data()));
  return links;
}

size_t HnswGraph::memory_bytes() const {
  return levels_.size() + level0_.size() * sizeof(uint32_t) + upper_.size() * sizeof(uint32_t) +
         level0_narrow_.size() * sizeof(uint16_t) + upper_narrow_.size() * sizeof(uint16_t) +
         upper_bits_.size() * sizeof(uint64_t) + upper_rank_.size() * sizeof(uint32_t) +
         upper_offsets_.size() * sizeof(uint32_t);
}

template <bool kLocked, class Link>
uint32_t HnswGraph::CopyLinks(uint32_t node, int level, uint32_t* out) const {
  if constexpr (kLocked) {
    static_assert(std::is_same_v<Link, uint32_t>, "a graph being built is wide");
    std::lock_guard<std::mutex> lock(locks_->node_locks[node % kLockStripes]);
    const uint32_t* block = BlockOf<uint32_t>(node, level);
    std::copy_n(block + 1, block[0], out);
    return block[0];
  } else {
    const Link* block = BlockOf<Link>(node, level);
    std::copy_n(block + 1, block[0], out);
    return block[0];
  }
}

template <bool kLocked, class Link, class Space>
uint32_t HnswGraph::Descend(const Space& space, uint32_t start, int start_level, int target_level,
                            float* distance) const {
  uint32_t current = start;
  float current_distance = space.Distance(current);
  uint32_t links[2 * 128 + 1];
  for (int level = start_level; level > target_level; --level) {
    bool changed = true;
    while (changed) {
      changed = false;
      const uint32_t count = CopyLinks<kLocked, Link>(current, level, links);
      for (uint32_t link = 0; link < count; ++link) {
        const uint32_t next = links[link];
        const float d = space.Distance(next);
        if (d < current_distance) {
          current_distance = d;
          current = next;
          changed = true;
        }
      }
    }
  }
  *distance = current_distance;
  return current;
}

template <bool kLocked, class Link, class Space>
void HnswGraph::SearchLevel(const Space& space, uint32_t entry, float entry_distance, int32_t ef,
                            int level, NodeFilter filter, HnswScratch* scratch) const {
  scratch->Reset(num_nodes());
  std::vector<HnswCandidate>& candidates = scratch->candidates;
  std::vector<HnswCandidate>& results = scratch->results;
  const size_t max_results = static_cast<size_t>(std::max(ef, 1));
  float bound = std::numeric_limits<float>::infinity();  // worst result once results is full
  scratch->Visit(entry);
  candidates.push_back({entry_distance, entry});
  if (filter.Accepts(entry)) {
    results.push_back({entry_distance, entry});
    if (results.size() >= max_results) bound = entry_distance;
  }
  while (!candidates.empty()) {
    const HnswCandidate current = candidates.front();
    if (current.distance > bound) break;
    std::pop_heap(candidates.begin(), candidates.end(), NearerFirst());
    candidates.pop_back();

    // Two passes over the links: first find the unvisited ones (prefetching the visited
    // stamps), then compute their distances while prefetching the next nodes' data.
    const Link* block = BlockOf<Link>(current.node, level);
    uint32_t copied[2 * 128 + 1];
    if constexpr (kLocked) {  // links being rewritten by other threads: take a snapshot
      copied[0] = CopyLinks<true, uint32_t>(current.node, level, copied + 1);
      block = copied;
    }
    const uint32_t count = block[0];
    for (uint32_t link = 1; link <= count; ++link) scratch->PrefetchVisited(block[link]);
    uint32_t* fresh = scratch->fresh;
    uint32_t num_fresh = 0;
    for (uint32_t link = 1; link <= count; ++link) {
      if (scratch->Visit(block[link])) fresh[num_fresh++] = block[link];
    }
    for (uint32_t idx = 0; idx < std::min<uint32_t>(num_fresh, 2); ++idx) {
      space.Prefetch(fresh[idx]);
    }
    for (uint32_t idx = 0; idx < num_fresh; ++idx) {
      if (idx + 2 < num_fresh) space.Prefetch(fresh[idx + 2]);
      const uint32_t next = fresh[idx];
      const float d = space.Distance(next);
      if (d >= bound) continue;
      candidates.push_back({d, next});
      std::push_heap(candidates.begin(), candidates.end(), NearerFirst());
      if (!filter.Accepts(next)) continue;
      results.push_back({d, next});
      std::push_heap(results.begin(), results.end(), FartherFirst());
      if (results.size() > max_results) {
        std::pop_heap(results.begin(), results.end(), FartherFirst());
        results.pop_back();
      }
      if (results.size() >= max_results) bound = results.front().distance;
    }
  }
}

template <class Space>
void HnswGraph::Search(const Space& space, int32_t ef, NodeFilter filter, HnswScratch* scratch,
                       std::vector<HnswCandidate>* out) const {
  if (narrow_) {
    SearchWith<uint16_t>(space, ef, filter, scratch, out);
  } else {
    SearchWith<uint32_t>(space, ef, filter, scratch, out);
  }
}

template <class Link, class Space>
void HnswGraph::SearchWith(const Space& space, int32_t ef, NodeFilter filter, HnswScratch* scratch,
                           std::vector<HnswCandidate>* out) const {
  out->clear();
  if (max_level_ < 0) return;
  float entry_distance = 0.0f;
  const uint32_t entry = Descend<false, Link>(space, entry_point_, max_level_, 0, &entry_distance);
  SearchLevel<false, Link>(space, entry, entry_distance, ef, 0, filter, scratch);
  out->assign(scratch->results.begin(), scratch->results.end());
  std::sort(out->begin(), out->end(), Ascending);
}

void HnswGraph::SelectNeighbors(const FloatSpace& space, std::vector<HnswCandidate>* candidates,
                                int max_links, HnswScratch* scratch) const {
  if (static_cast<int>(candidates->size()) <= max_links) return;
  std::sort(candidates->begin(), candidates->end(), Ascending);
  std::vector<HnswCandidate>& selected = scratch->selected;
  selected.clear();
  for (const HnswCandidate& candidate : *candidates) {
    if (static_cast<int>(selected.size()) >= max_links) break;
    // Keep the candidate only if it is nearer to the base than to every neighbor kept so far:
    // the neighbors then point in diverse directions.
    bool keep = true;
    const FloatSpace from = space.WithQuery(space.Vector(candidate.node));
    for (const HnswCandidate& kept : selected) {
      if (from.Distance(kept.node) < candidate.distance) {
        keep = false;
        break;
      }
    }
    if (keep) selected.push_back(candidate);
  }
  candidates->swap(selected);
}

void HnswGraph::Insert(uint32_t node, const FloatSpace& graph_space, HnswScratch* scratch) {
  if (narrow_) std::abort();  // REQUIRES violated: a built graph is immutable
  InsertImpl<false>(node, graph_space, scratch);
}

template <bool kLocked>
void HnswGraph::InsertImpl(uint32_t node, const FloatSpace& graph_space, HnswScratch* scratch) {
  const int node_level = levels_[node];
  // The entry point as of now. A node that will become the new top keeps the global lock for
  // its whole insertion (rare: about one node in m per level), as in hnswlib.
  std::unique_lock<std::mutex> global;
  if constexpr (kLocked) global = std::unique_lock<std::mutex>(locks_->global);
  const int top_level = max_level_;
  const uint32_t top_node = entry_point_;
  if (top_level < 0) {
    entry_point_ = node;
    max_level_ = node_level;
    return;
  }
  if (global.owns_lock() && node_level <= top_level) global.unlock();

  const FloatSpace space = graph_space.WithQuery(graph_space.Vector(node));
  float entry_distance = 0.0f;
  uint32_t entry =
      Descend<kLocked, uint32_t>(space, top_node, top_level, node_level, &entry_distance);
  std::vector<HnswCandidate>& pruned = scratch->pruned;
  auto lock_node = [this](uint32_t id) {
    if constexpr (kLocked) {
      return std::unique_lock<std::mutex>(locks_->node_locks[id % kLockStripes]);
    } else {
      return std::unique_lock<std::mutex>();
    }
  };
  for (int level = std::min(node_level, top_level); level >= 0; --level) {
    SearchLevel<kLocked, uint32_t>(space, entry, entry_distance, params_.ef_construction, level,
                                   NodeFilter(), scratch);
    std::vector<HnswCandidate> neighbors(scratch->results.begin(), scratch->results.end());
    SelectNeighbors(space, &neighbors, params_.m, scratch);
    std::sort(neighbors.begin(), neighbors.end(), Ascending);
    const int max_links = MaxLinks(level);
    {
      auto lock = lock_node(node);
      uint32_t* block = Block(node, level);
      if (block[0] == 0) {
        block[0] = static_cast<uint32_t>(neighbors.size());
        for (size_t idx = 0; idx < neighbors.size(); ++idx) block[1 + idx] = neighbors[idx].node;
      } else {
        // Concurrent build only: a thread that reached this node through an upper level
        // already linked its own node here. Keep those links too.
        pruned.assign(neighbors.begin(), neighbors.end());
        for (uint32_t link = 1; link <= block[0]; ++link) {
          const bool known =
              std::any_of(neighbors.begin(), neighbors.end(),
                          [&](const HnswCandidate& c) { return c.node == block[link]; });
          if (!known) pruned.push_back({space.Distance(block[link]), block[link]});
        }
        SelectNeighbors(space, &pruned, max_links, scratch);
        block[0] = static_cast<uint32_t>(pruned.size());
        for (size_t idx = 0; idx < pruned.size(); ++idx) block[1 + idx] = pruned[idx].node;
      }
    }

    for (const HnswCandidate& neighbor : neighbors) {
      auto lock = lock_node(neighbor.node);
      uint32_t* other = Block(neighbor.node, level);
      if (static_cast<int>(other[0]) < max_links) {
        other[1 + other[0]] = node;
        ++other[0];
        continue;
      }
      // Full: re-select among the old links and the new node.
      const FloatSpace from = space.WithQuery(space.Vector(neighbor.node));
      pruned.clear();
      pruned.push_back({neighbor.distance, node});
      for (uint32_t link = 1; link <= other[0]; ++link) {
        pruned.push_back({from.Distance(other[link]), other[link]});
      }
      SelectNeighbors(space, &pruned, max_links, scratch);
      other[0] = static_cast<uint32_t>(pruned.size());
      for (size_t idx = 0; idx < pruned.size(); ++idx) other[1 + idx] = pruned[idx].node;
    }
    if (!neighbors.empty()) {
      entry = neighbors.front().node;
      entry_distance = neighbors.front().distance;
    }
  }
  if (node_level > top_level) {  // still holding the global lock when kLocked
    entry_point_ = node;
    max_level_ = node_level;
  }
}

void HnswGraph::Build(const FloatSpace& space, int num_threads) {
  const uint32_t n = num_nodes();
  HnswScratch scratch;
  // Few nodes per thread: locking costs more than it saves.
  if (num_threads <= 1 || n < 1024) {
    for (uint32_t node = 0; node < n; ++node) InsertImpl<false>(node, space, &scratch);
    Narrow();
    return;
  }
  locks_ = std::make_unique<BuildLocks>();
  // The first nodes alone, so that the graph has an entry point and some structure to search.
  const uint32_t serial = std::min<uint32_t>(n, 64);
  for (uint32_t node = 0; node < serial; ++node) InsertImpl<false>(node, space, &scratch);
  std::atomic<uint32_t> next{serial};
  auto worker = [&](HnswScratch* own) {
    for (uint32_t node = next.fetch_add(1); node < n; node = next.fetch_add(1)) {
      InsertImpl<true>(node, space, own);
    }
  };
  std::vector<std::thread> threads;
  std::vector<HnswScratch> scratches(static_cast<size_t>(num_threads - 1));
  for (int t = 0; t + 1 < num_threads; ++t) threads.emplace_back(worker, &scratches[t]);
  worker(&scratch);
  for (std::thread& thread : threads) thread.join();
  locks_.reset();
  Narrow();
}

template void HnswGraph::Search<FloatSpace>(const FloatSpace&, int32_t, NodeFilter, HnswScratch*,
                                            std::vector<HnswCandidate>*) const;
template void HnswGraph::Search<Sq8Space>(const Sq8Space&, int32_t, NodeFilter, HnswScratch*,
                                          std::vector<HnswCandidate>*) const;

}  // namespace tessera::index
