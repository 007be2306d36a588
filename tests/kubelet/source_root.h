// The source tree's root, for tests that run scripts/ of it.
#pragma once

#include <filesystem>
#include <string>

namespace skiff::testing {

// From this file's path; when the compiler was given a relative one (ccache's
// base_dir rewrites it), from the working directory, which CTest sets to the
// source root.
inline std::string sourceRoot() {
  namespace fs = std::filesystem;
  fs::path root = fs::path(__FILE__).parent_path().parent_path().parent_path();
  if (root.is_relative() || !fs::exists(root / "scripts/make-busybox-image.sh"))
    root = fs::current_path();
  return root.string();
}

}  // namespace skiff::testing
