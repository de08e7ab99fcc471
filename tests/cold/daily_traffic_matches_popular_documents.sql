{{!-- Every event has one document: a day's total_events is the sum of its documents' view_count,
      and its unique_documents the number of its documents. A day missing on either side fails too. --}}
WITH docs AS (
  SELECT event_date, sum(view_count) AS views, count(*) AS documents
  FROM {{ref "mart_popular_documents"}}
  GROUP BY event_date
)
SELECT coalesce(t.event_date, d.event_date) AS event_date, t.total_events, d.views, t.unique_documents, d.documents
FROM {{ref "mart_daily_traffic"}} t
FULL JOIN docs d ON d.event_date = t.event_date
WHERE t.total_events IS DISTINCT FROM d.views OR t.unique_documents IS DISTINCT FROM d.documents
