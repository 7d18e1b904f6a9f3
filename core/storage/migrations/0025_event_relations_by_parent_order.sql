-- GET /relations without a rel_type pages a parent's children in
-- topological order. event_relations_parent starts with rel_type after the
-- parent, so without one PostgreSQL sorted every child of the parent on each
-- page (a message with 50,000 reactions: 50,000 rows per page). This index
-- reads them in order, no further than the page.
CREATE INDEX event_relations_parent_order
  ON event_relations (relates_to_id, depth, stream_ordering);
