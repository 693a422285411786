// Watching the contexts of runs: a run whose context ends while it waits
// (in a ready queue, for a retry, behind an open breaker) is abandoned at
// once, not when it next comes up. The consumer hands every run of a
// partition the same context, so the publisher watches each context once,
// by its Done channel, for as long as runs carry it, instead of once per
// run (context.AfterFunc costs several allocations and a lock of the
// parent each time).

package sns

import "context"

// maxIdleWatches bounds the watches kept while no run carries them, for the
// next run of the same context: a partition's context between two runs.
// Past it a watch is dropped when its last run is done.
const maxIdleWatches = 256

// ctxWatch is one watched context. runs is guarded by Publisher.watchMu.
type ctxWatch struct {
	done <-chan struct{}
	runs int
	stop func() bool
}

// watch makes sure r's context is watched while r is outstanding.
func (p *Publisher) watch(r *run) {
	d := r.ctx.Done()
	if d == nil {
		return // never ends
	}
	p.watchMu.Lock()
	w := p.watches[d]
	if w == nil {
		w = &ctxWatch{done: d}
		w.stop = context.AfterFunc(r.ctx, func() { p.ctxEnded(w) })
		p.watches[d] = w
	}
	w.runs++
	r.watch = w
	p.watchMu.Unlock()
}

// unwatch is called when the last entry of a run carrying w is done.
func (p *Publisher) unwatch(w *ctxWatch) {
	p.watchMu.Lock()
	defer p.watchMu.Unlock()
	w.runs--
	if w.runs == 0 && len(p.watches) > maxIdleWatches && p.watches[w.done] == w {
		w.stop()
		delete(p.watches, w.done)
	}
}

// ctxEnded forgets w and has every topic drop the runs whose context ended.
func (p *Publisher) ctxEnded(w *ctxWatch) {
	p.watchMu.Lock()
	if p.watches[w.done] == w {
		delete(p.watches, w.done)
	}
	p.watchMu.Unlock()
	p.topics.Range(func(_, t any) bool {
		t.(*topic).markReap()
		return true
	})
}

// stopWatches lets go of every watch: the publisher is closed and holds no
// run.
func (p *Publisher) stopWatches() {
	p.watchMu.Lock()
	defer p.watchMu.Unlock()
	for d, w := range p.watches {
		w.stop()
		delete(p.watches, d)
	}
}
