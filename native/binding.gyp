{
  "targets": [
    { "target_name": "pump", "sources": ["pump.c"], "libraries": ["-lpthread"] },
    { "target_name": "fetcher", "sources": ["fetcher.c"], "libraries": ["-lpthread"] }
  ]
}
