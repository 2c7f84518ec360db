{
  "targets": [
    {
      "target_name": "nsvisor-spawn-child",
      "type": "static_library",
      "sources": ["native/spawn_child.c", "native/spawn_mounts.c"],
      "cflags": [
        "-Wall", "-Wextra", "-Werror",
        "-ffreestanding", "-fno-builtin", "-fno-tree-loop-distribute-patterns", "-fno-stack-protector",
        "-fvisibility=hidden"
      ]
    },
    {
      "target_name": "nsvisor",
      "dependencies": ["nsvisor-spawn-child"],
      "sources": [
        "native/addon.cc",
        "native/bindings.cc",
        "native/spawn_binding.cc",
        "native/process_binding.cc",
        "native/notify_binding.cc",
        "native/listen_binding.cc",
        "native/devices_binding.cc",
        "native/adopt_binding.cc",
        "native/output_pipe_binding.cc",
        "native/spawn.c",
        "native/nsinfo_binding.cc",
        "native/nsinfo.c",
        "native/netlink_binding.cc",
        "native/netlink.c"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags": ["-Wall", "-Wextra", "-Werror"],
      "cflags_cc": ["-Wall", "-Wextra", "-Werror", "-std=c++17"]
    },
    {
      "target_name": "nsvisor-init",
      "type": "executable",
      "sources": [
        "native/init.c",
        "native/init_command.c",
        "native/init_join.c",
        "native/init_license.c",
        "native/init_log.c",
        "native/init_adopt.c",
        "native/init_options.c",
        "native/init_output.c",
        "native/init_procs.c",
        "native/init_signals.c",
        "native/seccomp_load.c"
      ],
      "defines": ["NSV_VERSION=\"<!(node -p \"require('./package.json').version\")\""],
      "cflags": ["-Wall", "-Wextra", "-Werror", "-O2"],
      "ldflags": ["-static-pie"]
    }
  ]
}
