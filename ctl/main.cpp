#include "ctl/commands.h"

int main(int argc, char** argv) { return skiff::ctl::run(argc, argv); }
