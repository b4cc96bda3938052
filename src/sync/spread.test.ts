import { describe, expect, it } from 'vitest'
import { SpreadPlan } from './spread.js'

describe('SpreadPlan: who may lack what others taught this node', () => {
  it('nobody before anything was learnt; every other neighbour after, not the teacher', () => {
    const plan = new SpreadPlan()
    expect(plan.due(['a', 'b', 'c'])).toEqual([])
    plan.learnt('a', 100)
    expect(plan.due(['a', 'b', 'c'])).toEqual(['b', 'c'])
  })

  it('a neighbour whose last completed session began after the learning is not due; one that began before is', () => {
    const plan = new SpreadPlan()
    plan.learnt('a', 100)
    plan.synced('b', 150) // b reconciled with this node after it learnt: b has it
    plan.synced('c', 90) // c's session began before: it may not
    expect(plan.due(['a', 'b', 'c'])).toEqual(['c'])
    plan.synced('b', 120) // an older session completing later changes nothing
    expect(plan.due(['b'])).toEqual([])
    plan.synced('c', 195) // a session with c began after a's lesson, and taught this node at 200:
    plan.learnt('c', 200) // b may lack that, c does not, and c already has a's
    expect(plan.due(['a', 'b', 'c'])).toEqual(['a', 'b'])
  })

  it('a teacher is due what another taught after its session, and a neighbour that left starts afresh', () => {
    const plan = new SpreadPlan()
    plan.learnt('a', 100)
    plan.synced('a', 50)
    plan.learnt('b', 300)
    plan.learnt('a', 310) // a again: still b's 300 is what a may lack
    expect(plan.due(['a', 'b'])).toEqual(['a', 'b'])
    plan.synced('a', 320)
    plan.synced('b', 320)
    expect(plan.due(['a', 'b'])).toEqual([])
    plan.left('b')
    expect(plan.due(['b'])).toEqual(['b'])
  })
})
