package cache

import (
	"encoding/json"
	"os"
	osexec "os/exec"
	"testing"
	"time"
)

// deadPID is the pid of a process of this host that has exited.
func deadPID(t *testing.T) int {
	cmd := osexec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// A lease left by another driver is taken over only when it expired or
// its owner is a dead process of this host: a dead driver on another node
// stops blocking its keys after LeaseTTL, a live one keeps them.
func TestLeaseTakeover(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name     string
		content  func(t *testing.T) []byte
		age      time.Duration // of the lease file's mtime
		takeOver bool
	}{
		{"live owner on another node", leaseOf(Owner{PID: 1, Host: "node7"}, now.Add(time.Minute)), 0, false},
		{"expired owner on another node", leaseOf(Owner{PID: 1, Host: "node7"}, now.Add(-time.Minute)), 0, true},
		{"expired within the clock skew", leaseOf(Owner{PID: 1, Host: "node7"}, now.Add(-LeaseSkew/2)), 0, false},
		{"dead process on this host", func(t *testing.T) []byte {
			return leaseOf(Owner{PID: deadPID(t), Host: Host()}, now.Add(time.Minute))(t)
		}, 0, true},
		{"live process on this host", leaseOf(Owner{PID: os.Getppid(), Host: Host()}, now.Add(time.Minute)), 0, false},
		{"torn lease, fresh", func(*testing.T) []byte { return []byte(`{"pid":`) }, 0, false},
		{"torn lease, older than the TTL", func(*testing.T) []byte { return []byte(`{"pid":`) }, 2 * time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := Open(t.TempDir())
			k := key("lease")
			c.ensure("locks")
			if err := os.WriteFile(c.leasePath(k), tc.content(t), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.age > 0 {
				old := time.Now().Add(-tc.age)
				os.Chtimes(c.leasePath(k), old, old)
			}
			me := Owner{PID: os.Getpid(), Host: Host(), Address: "index.x"}
			l, holder, ok, err := c.TryLock(k, me)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.takeOver {
				t.Fatalf("taken over: %v, want %v (holder %+v)", ok, tc.takeOver, holder)
			}
			if !ok {
				return
			}
			defer l.Unlock()
			got, err := readLease(c.leasePath(k))
			if err != nil || got.PID != os.Getpid() || got.Address != "index.x" {
				t.Errorf("lease after takeover: %+v, %v", got, err)
			}
			// And now it is ours: a second node cannot take it.
			if _, ok, _ := takeLease(c.leasePath(k), Owner{PID: 2, Host: "node8"}); ok {
				t.Error("a second taker got a live lease")
			}
		})
	}
}

func leaseOf(o Owner, expires time.Time) func(*testing.T) []byte {
	return func(t *testing.T) []byte {
		data, err := json.Marshal(lease{Owner: o, Token: "t", Expires: expires})
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
}

// The heartbeat keeps a lease alive past its TTL; Unlock removes it.
func TestLeaseHeartbeat(t *testing.T) {
	ttl, skew := LeaseTTL, LeaseSkew
	LeaseTTL, LeaseSkew = 300*time.Millisecond, 0
	defer func() { LeaseTTL, LeaseSkew = ttl, skew }()
	c, _ := Open(t.TempDir())
	k := key("beat")
	l, _, ok, err := c.TryLock(k, Owner{PID: os.Getpid(), Host: Host()})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	time.Sleep(4 * LeaseTTL)
	// Another node (no shared flock) finds it live.
	if _, ok, _ := takeLease(c.leasePath(k), Owner{PID: 2, Host: "node8"}); ok {
		t.Fatal("a lease with a running heartbeat was taken over")
	}
	c.DelegateLock(k, "42")
	if h, ok := c.Holder(k); !ok || h.Job != "42" {
		t.Errorf("holder after DelegateLock: %+v %v", h, ok)
	}
	// The job it was delegated to gets it; another job does not.
	for _, tc := range []struct {
		job  string
		want bool
	}{{"", false}, {"43", false}, {"42", true}} {
		ThisJob = tc.job
		d, _, ok, err := c.TryLock(k, Owner{PID: 5, Host: "node8"})
		if err != nil || ok != tc.want {
			t.Errorf("job %q: granted %v (%v), want %v", tc.job, ok, err, tc.want)
		}
		d.Unlock()
	}
	ThisJob = ""
	if h, ok := c.Holder(k); !ok || h.PID != os.Getpid() {
		t.Errorf("the delegated job's unlock released the holder's lease: %+v %v", h, ok)
	}
	l.Unlock()
	if _, err := os.Stat(c.leasePath(k)); !os.IsNotExist(err) {
		t.Errorf("lease still there after Unlock: %v", err)
	}
	// Without heartbeats (its holder's node died) it expires.
	l2, _, ok, err := c.TryLock(k, Owner{PID: 3, Host: "node9"})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	close(l2.stop) // the node dies: no more beats, nothing released
	<-l2.done
	l2.stop = nil
	l2.f.Close()
	time.Sleep(2 * LeaseTTL)
	if _, ok, _ := takeLease(c.leasePath(k), Owner{PID: 4, Host: "node8"}); !ok {
		t.Error("an expired lease was not taken over")
	}
}
