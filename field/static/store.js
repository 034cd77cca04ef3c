/* The outbox: reports, actions, visits and patrol fixes waiting for the network, in IndexedDB so
   they survive closing the browser. Each item's id is the UUID made when it was created; the API is
   idempotent on it, so sending twice stores once. */
"use strict";
window.FieldStore = (function () {
  const DB = "onemap-field", STORE = "outbox", VERSION = 1;
  let opening = null;

  function open() {
    if (!opening) {
      opening = new Promise(function (resolve, reject) {
        const req = indexedDB.open(DB, VERSION);
        req.onupgradeneeded = function () {
          const os = req.result.createObjectStore(STORE, { keyPath: "id" });
          os.createIndex("created", "created");
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return opening;
  }

  function tx(mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        const t = db.transaction(STORE, mode);
        const result = fn(t.objectStore(STORE));
        t.oncomplete = function () { resolve(result && "result" in result ? result.result : result); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }

  return {
    put: function (item) { return tx("readwrite", function (s) { s.put(item); }); },
    get: function (id) { return tx("readonly", function (s) { return s.get(id); }); },
    all: function () {
      return tx("readonly", function (s) { return s.index("created").getAll(); });
    },
    remove: function (id) { return tx("readwrite", function (s) { s.delete(id); }); }
  };
})();
