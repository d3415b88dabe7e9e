// Package task supervises a daemon's long-lived tasks: the Flight or HTTP
// server, identity upkeep, policy bundle watchers, catalog refresh.
//
// It owns two rules every daemon shares: a task that fails stops the whole
// daemon, visibly (Run returns that task's error under its name), and
// shutdown is ordered (tasks stop in the reverse of the order they were
// given, so a server drains before what it depends on stops). It must not
// know what the tasks are, retry them, or swallow their errors.
package task
