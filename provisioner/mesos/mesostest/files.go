package mesostest

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// filesReadMax is the cap on one /files/read answer: 16 pages, as in
// Mesos's Files::read.
const filesReadMax = 16 * 4096

// handler serves the agent's HTTP API: the files API (/files/read,
// /files/browse, /files/download) over the sandboxes, and /state.
func (a *agent) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/files/read", a.serveRead)
	mux.HandleFunc("/files/read.json", a.serveRead)
	mux.HandleFunc("/files/browse", a.serveBrowse)
	mux.HandleFunc("/files/browse.json", a.serveBrowse)
	mux.HandleFunc("/files/download", a.serveDownload)
	mux.HandleFunc("/state", a.serveState)
	mux.HandleFunc("/slave(1)/state", a.serveState)
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	return mux
}

// resolve maps a files API path to a file under the agent's work dir. Both
// the real sandbox path and the virtual
// /frameworks/F/executors/E/runs/latest path are accepted.
func (a *agent) resolve(p string) (string, bool) {
	if p == "" {
		return "", false
	}
	clean := filepath.Clean("/" + p)
	var full string
	switch {
	case strings.HasPrefix(clean, a.workDir+"/") || clean == a.workDir:
		full = clean
	case strings.HasPrefix(clean, "/frameworks/"):
		full = filepath.Join(a.workDir, clean)
	default:
		return "", false
	}
	return full, true
}

func filesError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, msg)
}

func (a *agent) serveRead(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := q.Get("path")
	if p == "" {
		filesError(w, http.StatusBadRequest, "Expecting 'path=value' in query.\n")
		return
	}
	offset, err := strconv.ParseInt(q.Get("offset"), 10, 64)
	if q.Get("offset") == "" {
		offset, err = 0, nil
	}
	if err != nil {
		filesError(w, http.StatusBadRequest, "Failed to parse offset: "+err.Error()+".\n")
		return
	}
	length := int64(-1)
	if s := q.Get("length"); s != "" {
		if length, err = strconv.ParseInt(s, 10, 64); err != nil {
			filesError(w, http.StatusBadRequest, "Failed to parse length: "+err.Error()+".\n")
			return
		}
	}
	full, ok := a.resolve(p)
	if !ok {
		filesError(w, http.StatusNotFound, "")
		return
	}
	f, err := os.Open(full)
	if err != nil {
		filesError(w, http.StatusNotFound, "")
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		filesError(w, http.StatusBadRequest, "Cannot read a directory.\n")
		return
	}
	size := fi.Size()
	resp := map[string]any{"data": "", "offset": size}
	if offset >= 0 {
		if offset > size {
			offset = size
		}
		if length < 0 || length > filesReadMax {
			length = filesReadMax
		}
		if offset+length > size {
			length = size - offset
		}
		buf := make([]byte, length)
		n, _ := f.ReadAt(buf, offset)
		resp = map[string]any{"data": string(buf[:n]), "offset": offset}
	}
	writeJSON(w, resp)
}

func (a *agent) serveBrowse(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query().Get("path")
	if p == "" {
		filesError(w, http.StatusBadRequest, "Expecting 'path=value' in query.\n")
		return
	}
	full, ok := a.resolve(p)
	if !ok {
		filesError(w, http.StatusNotFound, "")
		return
	}
	entries, err := os.ReadDir(full)
	if err != nil {
		filesError(w, http.StatusNotFound, "")
		return
	}
	out := []map[string]any{}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, map[string]any{
			"path":  strings.TrimSuffix(p, "/") + "/" + e.Name(),
			"nlink": 1, "size": fi.Size(), "mtime": fi.ModTime().Unix(), "mode": fi.Mode().String(),
			"uid": "root", "gid": "root",
		})
	}
	writeJSON(w, out)
}

func (a *agent) serveDownload(w http.ResponseWriter, r *http.Request) {
	full, ok := a.resolve(r.URL.Query().Get("path"))
	if !ok {
		filesError(w, http.StatusNotFound, "")
		return
	}
	fi, err := os.Stat(full)
	if err != nil || fi.IsDir() {
		filesError(w, http.StatusNotFound, "")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeFile(w, r, full)
}

// serveState is a small subset of the agent's /state: enough to find a
// task's sandbox directory.
func (a *agent) serveState(w http.ResponseWriter, r *http.Request) {
	m := a.m
	m.mu.Lock()
	type execState struct {
		ID        string           `json:"id"`
		Name      string           `json:"name"`
		Directory string           `json:"directory"`
		Container string           `json:"container"`
		Tasks     []map[string]any `json:"tasks"`
	}
	fws := map[string][]execState{}
	var order []string
	for _, fwID := range m.fwOrder {
		fw := m.frameworks[fwID]
		if fw == nil {
			continue
		}
		for _, t := range append(fw.sortedTasks(), fw.completed...) {
			if t.agent != a || t.run == nil {
				continue
			}
			if _, ok := fws[fwID]; !ok {
				order = append(order, fwID)
			}
			fws[fwID] = append(fws[fwID], execState{ID: t.info.TaskID.Value, Name: "Command Executor (Task: " + t.info.TaskID.Value + ")",
				Directory: t.run.sandbox, Container: t.run.containerID,
				Tasks: []map[string]any{{"id": t.info.TaskID.Value, "name": t.info.Name, "state": t.state.String()}}})
		}
	}
	frameworks := []map[string]any{}
	for _, id := range order {
		frameworks = append(frameworks, map[string]any{"id": id, "executors": fws[id]})
	}
	out := map[string]any{"id": a.id, "hostname": a.hostname, "port": a.port, "version": mesosVersion,
		"frameworks": frameworks}
	m.mu.Unlock()
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		filesError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}
