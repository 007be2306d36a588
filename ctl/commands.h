// The `skiff` command line: one function per verb. main() only dispatches.
//
// Each verb takes argv with argv[0] = the verb name and returns the process exit
// code (0 success, 1 any error, as kubectl). Flags follow kubectl 1.32 (see
// each verb's --help); errors print as kubectl prints them (client/rest_client.h
// renderError) plus, where skiff can tell why, a `hint:` line.
#pragma once

namespace skiff::ctl {

// Dispatches `skiff VERB ...`; prints usage for no verb or `--help`.
int run(int argc, char** argv);

int runApiserverCommand(int argc, char** argv);     // cmd_apiserver.cpp (transport engineer)
int runUpCommand(int argc, char** argv);            // cmd_up.cpp
int runDownCommand(int argc, char** argv);          // cmd_up.cpp
int runApplyCommand(int argc, char** argv);         // cmd_apply.cpp
int runCreateCommand(int argc, char** argv);        // cmd_apply.cpp
int runReplaceCommand(int argc, char** argv);       // cmd_apply.cpp
int runGetCommand(int argc, char** argv);           // cmd_get.cpp
int runDescribeCommand(int argc, char** argv);      // cmd_describe.cpp
int runDeleteCommand(int argc, char** argv);        // cmd_delete.cpp
int runWaitCommand(int argc, char** argv);          // cmd_delete.cpp
int runVersionCommand(int argc, char** argv);       // cmd_misc.cpp
int runApiResourcesCommand(int argc, char** argv);  // cmd_misc.cpp
int runCompletionCommand(int argc, char** argv);    // cmd_misc.cpp
int runImageCommand(int argc, char** argv);         // cmd_image.cpp
int runLogsCommand(int argc, char** argv);          // cmd_logs.cpp
int runExecCommand(int argc, char** argv);          // cmd_logs.cpp
int runScaleCommand(int argc, char** argv);         // cmd_rollout.cpp
int runRolloutCommand(int argc, char** argv);       // cmd_rollout.cpp
int runSetCommand(int argc, char** argv);           // cmd_rollout.cpp
int runKubeletCommand(int argc, char** argv);       // cmd_kubelet.cpp
int runSchedulerCommand(int argc, char** argv);     // cmd_scheduler.cpp
int runControllerManagerCommand(int argc, char** argv);  // cmd_controllers.cpp
int runNetproxyCommand(int argc, char** argv);      // cmd_netproxy.cpp

}  // namespace skiff::ctl
