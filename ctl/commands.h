// The `skiff` command line: one function per verb. main() only dispatches.
//
// Each verb takes argv with argv[0] = the verb name and returns the process exit
// code (0 success, 1 any error, as kubectl).
#pragma once

namespace skiff::ctl {

// Dispatches `skiff VERB ...`; prints usage for no verb or `--help`.
int run(int argc, char** argv);

int runApiserverCommand(int argc, char** argv);  // cmd_apiserver.cpp
int runVersionCommand(int argc, char** argv);    // commands.cpp

}  // namespace skiff::ctl
