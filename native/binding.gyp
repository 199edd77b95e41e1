{ "targets": [ { "target_name": "pump", "sources": ["pump.c"], "libraries": ["-lpthread"] } ] }
