package coordinator

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/internal/logkey"
)

// Async query states.
const (
	StateQueued    = "queued"
	StateRunning   = "running"
	StateDone      = "done"
	StateFailed    = "failed"
	StateCancelled = "cancelled"
)

// Bounds on the finished queries kept for their analysts.
const (
	asyncKeep     = 15 * time.Minute
	asyncMaxKept  = 256
	asyncMaxLimit = 10000 // rows per results page
)

// asyncJob is one submitted query: a single execution (the same path as
// POST /v1/query) whose context DELETE cancels, ending the fan-out at
// every site.
type asyncJob struct {
	id, analyst string
	cancel      context.CancelFunc
	submitted   time.Time

	mu       sync.Mutex
	state    string
	finished time.Time
	answer   *Answer
	err      *QueryError
	// progress is each site's last reported state in the fan-out.
	progress map[string]flight.SiteProgress
}

// AsyncStatus is the answer to GET /v1/queries/{id}.
type AsyncStatus struct {
	QueryID   string       `json:"query_id"`
	State     string       `json:"state"`
	ElapsedMS float64      `json:"elapsed_ms"`
	Rows      int          `json:"rows,omitempty"`
	Sites     []SiteStatus `json:"sites,omitempty"`
	// Progress is each site's state in the fan-out (running, done,
	// failed, refused), rolled up as SitesDone of SitesAsked.
	Progress   []SiteProgress `json:"progress"`
	SitesDone  int            `json:"sites_done"`
	SitesAsked int            `json:"sites_asked"`
	Error      *QueryError    `json:"error,omitempty"`
}

// SiteProgress is one site's state in an async query.
type SiteProgress struct {
	Site      string  `json:"site"`
	State     string  `json:"state"`
	Rows      int64   `json:"rows"`
	ElapsedMS float64 `json:"elapsed_ms"`
}

// asyncJobs holds the submitted queries by id.
type asyncJobs struct {
	mu   sync.Mutex
	jobs map[string]*asyncJob
	now  func() time.Time
}

func newAsyncJobs(now func() time.Time) *asyncJobs {
	return &asyncJobs{jobs: map[string]*asyncJob{}, now: now}
}

// submit starts exec under a context detached from the request (the query
// outlives it) and returns its job at once.
func (a *asyncJobs) submit(ctx context.Context, analyst string, exec func(context.Context) (*Answer, error)) *asyncJob {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	j := &asyncJob{id: newQueryID(), analyst: analyst, cancel: cancel, submitted: a.now(), state: StateRunning,
		progress: map[string]flight.SiteProgress{}}
	ctx = flight.WithProgress(ctx, func(p flight.SiteProgress) {
		j.mu.Lock()
		j.progress[p.Site] = p
		j.mu.Unlock()
	})
	a.mu.Lock()
	a.prune()
	a.jobs[j.id] = j
	a.mu.Unlock()
	go func() {
		defer cancel()
		ans, err := exec(ctx)
		j.mu.Lock()
		defer j.mu.Unlock()
		j.finished = a.now()
		switch {
		case j.state == StateCancelled:
		case err != nil:
			j.state = StateFailed
			var qe *QueryError
			if !errors.As(err, &qe) {
				qe = &QueryError{HTTPStatus: http.StatusInternalServerError, Code: CodeInternal, Message: err.Error()}
			}
			j.err = qe
		default:
			j.state, j.answer = StateDone, ans
		}
	}()
	return j
}

// prune drops finished queries older than asyncKeep, and the oldest
// finished ones beyond asyncMaxKept. a.mu is held.
func (a *asyncJobs) prune() {
	var oldest *asyncJob
	finished := 0
	for id, j := range a.jobs {
		j.mu.Lock()
		f := j.finished
		j.mu.Unlock()
		if f.IsZero() {
			continue
		}
		if a.now().Sub(f) > asyncKeep {
			delete(a.jobs, id)
			continue
		}
		finished++
		if oldest == nil || f.Before(oldest.finished) {
			oldest = j
		}
	}
	if finished >= asyncMaxKept && oldest != nil {
		delete(a.jobs, oldest.id)
	}
}

// get returns the job id of analyst; another analyst's job is not found.
func (a *asyncJobs) get(analyst, id string) (*asyncJob, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	j, ok := a.jobs[id]
	if !ok || j.analyst != analyst {
		return nil, false
	}
	return j, true
}

func (j *asyncJob) status(now time.Time) AsyncStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	end := j.finished
	if end.IsZero() {
		end = now
	}
	s := AsyncStatus{QueryID: j.id, State: j.state, ElapsedMS: float64(end.Sub(j.submitted).Microseconds()) / 1000, Error: j.err}
	if j.answer != nil {
		s.Rows, s.Sites = len(j.answer.Rows), j.answer.Sites
	}
	s.Progress = make([]SiteProgress, 0, len(j.progress))
	for _, p := range j.progress {
		el := p.Elapsed
		if p.State == flight.SiteRunning {
			el = end.Sub(j.submitted)
		}
		s.Progress = append(s.Progress, SiteProgress{Site: p.Site, State: p.State, Rows: p.Rows, ElapsedMS: float64(el.Microseconds()) / 1000})
		if p.State == flight.SiteDone {
			s.SitesDone++
		}
	}
	slices.SortFunc(s.Progress, func(a, b SiteProgress) int { return strings.Compare(a.Site, b.Site) })
	s.SitesAsked = len(s.Progress)
	return s
}

// cancelJob cancels a queued or running job; a finished one stays as it is.
func (j *asyncJob) cancelJob(now time.Time) {
	j.mu.Lock()
	if j.state == StateQueued || j.state == StateRunning {
		j.state, j.finished = StateCancelled, now
	}
	j.mu.Unlock()
	j.cancel()
}

var errNoSuchQuery = &QueryError{HTTPStatus: http.StatusNotFound, Code: "not_found",
	Message: "no such query of yours (unknown id, another analyst's, or finished long enough ago to be dropped)"}

// asyncAccepted is POST /v1/queries' answer: 202 with the query's id.
type asyncAccepted struct {
	QueryID string `json:"query_id"`
	State   string `json:"state"`
}

func (asyncAccepted) httpStatus() int { return http.StatusAccepted }

// asyncSubmit starts req as an async query of an and answers at once.
func (c *Coordinator) asyncSubmit(ctx context.Context, an Analyst, req queryRequest) (any, error) {
	if err := checkPrivacyRequest(req.Privacy); err != nil {
		return nil, err
	}
	j := c.async.submit(ctx, an.ID, func(ctx context.Context) (*Answer, error) {
		return c.QueryWith(ctx, an, req.SQL, req.Purpose, QueryOptions{Privacy: req.Privacy, AllowPartial: req.AllowPartial})
	})
	return asyncAccepted{QueryID: j.id, State: j.status(c.async.now()).State}, nil
}

// asyncEndpoint serves GET and DELETE /v1/queries/{id} and GET
// /v1/queries/{id}/results to the analyst who submitted the query.
func (c *Coordinator) asyncEndpoint(w http.ResponseWriter, r *http.Request) {
	an, ok := c.authenticateRequest(w, r)
	if !ok {
		return
	}
	j, ok := c.async.get(an.ID, r.PathValue("id"))
	if !ok {
		writeError(w, errNoSuchQuery)
		return
	}
	switch {
	case r.Method == http.MethodDelete:
		j.cancelJob(c.async.now())
		writeJSON(w, http.StatusOK, j.status(c.async.now()))
	case strings.HasSuffix(r.URL.Path, "/results"):
		c.asyncResults(w, r, j)
	default:
		writeJSON(w, http.StatusOK, j.status(c.async.now()))
	}
}

// asyncResults writes a page of a done query's rows (offset, limit).
func (c *Coordinator) asyncResults(w http.ResponseWriter, r *http.Request, j *asyncJob) {
	j.mu.Lock()
	state, ans := j.state, j.answer
	j.mu.Unlock()
	if state != StateDone {
		writeError(w, &QueryError{HTTPStatus: http.StatusConflict, Code: "not_done",
			Message: "query " + j.id + " is " + state + "; results are served once it is done"})
		return
	}
	num := func(k string, def int) (int, bool) {
		v := r.URL.Query().Get(k)
		if v == "" {
			return def, true
		}
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= 0
	}
	off, ok1 := num("offset", 0)
	lim, ok2 := num("limit", 1000)
	if !ok1 || !ok2 || lim == 0 || lim > asyncMaxLimit {
		writeError(w, &QueryError{HTTPStatus: http.StatusBadRequest, Code: CodeBadRequest,
			Message: "offset and limit must be non-negative integers, limit 1 to " + strconv.Itoa(asyncMaxLimit)})
		return
	}
	if wantsArrow(r) {
		// The whole result, one stream: paging is for the JSON form.
		if err := writeArrowStream(w, ans); err != nil {
			// A conversion failure comes before anything is written.
			c.log.Warn("arrow results failed", logkey.QueryID, j.id, logkey.Err, err)
			writeError(w, &QueryError{HTTPStatus: http.StatusInternalServerError, Code: CodeInternal, Message: "arrow results: " + err.Error()})
		}
		return
	}
	page := *ans
	off = min(off, len(ans.Rows))
	page.Rows = ans.Rows[off:min(off+lim, len(ans.Rows))]
	writeJSON(w, http.StatusOK, struct {
		*Answer
		Offset    int `json:"offset"`
		TotalRows int `json:"total_rows"`
	}{&page, off, len(ans.Rows)})
}
