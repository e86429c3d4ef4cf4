// Package appiotest is a local stand-in for App IO's REST API for public
// services, for tests: it answers POST /api/v1/profiles and
// POST /api/v1/messages with the published shapes and status codes, checks
// the API key header, the JSON shapes and the length limits, and refuses bad
// requests as the real API does (401 without a valid key, 400 with a
// ProblemJson for a malformed message, 404 for a citizen with no profile).
package appiotest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// fiscalCode is App IO's FiscalCode pattern.
var fiscalCode = regexp.MustCompile(`^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$`)

// Message is a message the server accepted.
type Message struct {
	ID, FiscalCode, Subject, Markdown string
}

// Server is the stand-in.
type Server struct {
	*httptest.Server
	key string

	mu       sync.Mutex
	profiles map[string]bool // CF → sender_allowed
	messages []Message
	fail     []int // statuses to answer the next message submissions with
	refused  int   // requests refused for their shape or key
}

// New starts a server that accepts key and knows no citizen yet.
func New(key string) *Server {
	s := &Server{key: key, profiles: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/profiles", s.profile)
	mux.HandleFunc("POST /api/v1/messages", s.message)
	s.Server = httptest.NewServer(mux)
	return s
}

// AddProfile makes cf a citizen with the app, allowing this service or not.
func (s *Server) AddProfile(cf string, senderAllowed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.profiles[cf] = senderAllowed
}

// FailNext makes the next message submissions answer these statuses.
func (s *Server) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, statuses...)
}

// Messages returns what the server accepted, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Refused counts the requests refused for their key or shape.
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

func (s *Server) problem(w http.ResponseWriter, status int, title, detail string) {
	s.mu.Lock()
	if status == http.StatusUnauthorized || status == http.StatusBadRequest {
		s.refused++
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"status": status, "title": title, "detail": detail})
}

// check verifies the key and content type and decodes the body strictly.
func (s *Server) check(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Header.Get("Ocp-Apim-Subscription-Key") != s.key {
		s.problem(w, http.StatusUnauthorized, "Access denied", "missing or invalid subscription key")
		return false
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.problem(w, http.StatusBadRequest, "Invalid content type", fmt.Sprintf("%q is not application/json", ct))
		return false
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		s.problem(w, http.StatusBadRequest, "Invalid body", err.Error())
		return false
	}
	return true
}

func (s *Server) profile(w http.ResponseWriter, r *http.Request) {
	var body struct {
		FiscalCode string `json:"fiscal_code"`
	}
	if !s.check(w, r, &body) {
		return
	}
	if !fiscalCode.MatchString(body.FiscalCode) {
		s.problem(w, http.StatusBadRequest, "Invalid fiscal_code", "value does not match the FiscalCode pattern")
		return
	}
	s.mu.Lock()
	allowed, ok := s.profiles[body.FiscalCode]
	s.mu.Unlock()
	if !ok {
		s.problem(w, http.StatusNotFound, "Profile not found", "the citizen has no profile on IO")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"sender_allowed": allowed, "preferred_languages": []string{"it_IT"}})
}

func (s *Server) message(w http.ResponseWriter, r *http.Request) {
	var body struct {
		FiscalCode string `json:"fiscal_code"`
		Content    *struct {
			Subject  string `json:"subject"`
			Markdown string `json:"markdown"`
		} `json:"content"`
	}
	if !s.check(w, r, &body) {
		return
	}
	switch {
	case !fiscalCode.MatchString(body.FiscalCode):
		s.problem(w, http.StatusBadRequest, "Invalid fiscal_code", "value does not match the FiscalCode pattern")
		return
	case body.Content == nil:
		s.problem(w, http.StatusBadRequest, "Invalid content", "content is required")
		return
	}
	if n := utf8.RuneCountInString(body.Content.Subject); n < 10 || n > 120 {
		s.problem(w, http.StatusBadRequest, "Invalid subject", fmt.Sprintf("subject has %d characters, not 10 to 120", n))
		return
	}
	if n := utf8.RuneCountInString(body.Content.Markdown); n < 80 || n > 10000 {
		s.problem(w, http.StatusBadRequest, "Invalid markdown", fmt.Sprintf("markdown has %d characters, not 80 to 10000", n))
		return
	}
	s.mu.Lock()
	if len(s.fail) > 0 {
		status := s.fail[0]
		s.fail = s.fail[1:]
		s.mu.Unlock()
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		s.problem(w, status, http.StatusText(status), "failure injected by the test")
		return
	}
	id := fmt.Sprintf("01TEST%020d", len(s.messages)+1)
	s.messages = append(s.messages, Message{ID: id, FiscalCode: body.FiscalCode, Subject: body.Content.Subject, Markdown: body.Content.Markdown})
	s.mu.Unlock()
	w.Header().Set("Location", "/api/v1/messages/"+body.FiscalCode+"/"+id)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]string{"id": id})
}
