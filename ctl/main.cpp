#include "ctl/commands.h"

#ifdef SKIFF_JEMALLOC
// jemalloc reads its options from this variable at its first allocation. Two
// arenas, one per core here: the 4 per core of its default keep ~2 MB more
// resident in a kubelet with 100 pods and serve the API server no faster.
extern "C" {
const char* malloc_conf = "narenas:2";
}
#endif

int main(int argc, char** argv) { return skiff::ctl::run(argc, argv); }
