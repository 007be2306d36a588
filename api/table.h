// Server-side printing: objects -> a meta.k8s.io/v1 Table with kubectl's columns
// for each kind (pods: NAME READY STATUS RESTARTS AGE, wide adds IP NODE
// NOMINATED NODE READINESS GATES; services: NAME TYPE CLUSTER-IP EXTERNAL-IP
// PORT(S) AGE, wide adds SELECTOR; ...). Columns that `-o wide` adds have
// priority 1. Cells are already formatted as kubectl prints them (AGE as "5m",
// "<none>", "<pending>"), so any client just lays them out.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "api/json.h"

namespace skiff::api {

struct TableOptions {
  // "includeObject" query parameter: None, Metadata (default) or Object.
  std::string includeObject = "Metadata";
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

// The Table for `objects` of `resource` (plural, e.g. "services"); every row
// carries its object as PartialObjectMetadata (or whole, per includeObject).
// `listMetadata` becomes the Table's metadata (resourceVersion, continue).
Json toTable(const std::string& resource, const std::vector<Json>& objects,
             const Json& listMetadata, const TableOptions& options = {});

// The same Table, written as text while the objects are produced, so a list of
// thousands of objects is never held as one Json tree: the caller adds each
// object once (moved in: its metadata moves into the row) and takes the text.
class TableWriter {
 public:
  TableWriter(std::string resource, TableOptions options = {});
  void add(Json&& object);
  // Appends the rows another writer (of the same resource and options) made,
  // after this one's: rows built on several threads, joined in order.
  void append(TableWriter&& other);
  // The complete Table text with `listMetadata` (resourceVersion, continue);
  // the writer is spent afterwards.
  std::string finish(const Json& listMetadata);

 private:
  std::string resource_;
  TableOptions options_;
  std::string rows_;  // "row,row,..."
};

// The column definitions alone (used for watch streams of Tables).
Json tableColumns(const std::string& resource);

// kubectl's age format (k8s.io/apimachinery/pkg/util/duration.HumanDuration):
// "45s", "5m", "3h", "2d", "4d3h", "2y".
std::string humanDuration(std::chrono::seconds d);

}  // namespace skiff::api
