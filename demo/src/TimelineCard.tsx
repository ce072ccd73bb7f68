import { clearTimeline, useTimeline } from './timeline'

/** What happened, newest first: the SDK's events and the demo's own actions. */
export function Timeline() {
  const entries = useTimeline()
  return (
    <section className="card wide">
      <div className="row spread">
        <h2>Timeline</h2>
        <button type="button" className="ghost small" onClick={clearTimeline}>
          Clear
        </button>
      </div>
      <ol className="timeline" data-testid="timeline">
        {entries.map((e) => (
          <li key={e.id} className={`tone-${e.tone}`}>
            <time>{e.at.toLocaleTimeString()}</time>
            <span className="title">{e.title}</span>
            {e.detail && <span className="detail">{e.detail}</span>}
          </li>
        ))}
        {entries.length === 0 && <li className="muted">Nothing yet.</li>}
      </ol>
    </section>
  )
}
