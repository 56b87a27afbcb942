#include "tessera/process_metrics.h"

namespace tessera {

ProcessMetrics& ProcessMetrics::Get() {
  static ProcessMetrics* metrics = new ProcessMetrics();  // never destroyed: used at exit
  return *metrics;
}

}  // namespace tessera
