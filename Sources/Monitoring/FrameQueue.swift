import Foundation
import Imaging

/// A frame as ffmpeg delivered it, with the moment it was read: an alert's time is when its frame was seen,
/// not when classification (which may lag a live source by up to the queue's length) got to it.
struct CapturedFrame: Sendable {
    let image: RGBImage
    let time: Date
}

/// Frames between the thread that reads ffmpeg's pipe and the task that classifies them.
///
/// Bounded, in frames and in bytes: for a file the reader waits when it is full (the file is read no faster than
/// it is classified); for a live source the oldest frame is dropped instead, so a camera is never left waiting
/// and memory stays bounded when classification falls behind for long. Dropped frames are counted.
final class FrameQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var frames: [CapturedFrame] = []
    private var bytes = 0
    private var finished = false
    private var closed = false
    private var waiter: CheckedContinuation<CapturedFrame?, Never>?
    private(set) var dropped = 0
    let capacity: Int
    /// Pixel bytes held at most (a live source drops beyond this even below `capacity` frames).
    let byteLimit: Int
    let dropsOldest: Bool

    init(capacity: Int, byteLimit: Int = 64 << 20, dropsOldest: Bool) {
        self.capacity = max(1, capacity)
        self.byteLimit = byteLimit
        self.dropsOldest = dropsOldest
    }

    /// Adds a frame (reader thread); blocks while full unless the queue drops frames. False once closed.
    @discardableResult
    func push(_ frame: CapturedFrame) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !dropsOldest && frames.count >= capacity && !closed { condition.wait() }
        if closed { return false }
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: frame)
            return true
        }
        while !frames.isEmpty && (frames.count >= capacity || bytes + frame.image.pixels.count > byteLimit) {
            bytes -= frames.removeFirst().image.pixels.count
            dropped += 1
        }
        frames.append(frame)
        bytes += frame.image.pixels.count
        return true
    }

    /// No more frames will come (ffmpeg's stdout ended).
    func finish() {
        condition.lock()
        finished = true
        let waiter = self.waiter
        self.waiter = nil
        condition.unlock()
        waiter?.resume(returning: nil)
    }

    /// The consumer gives up: the reader stops waiting and further frames are discarded.
    func close() {
        condition.lock()
        closed = true
        frames.removeAll()
        bytes = 0
        condition.broadcast()
        condition.unlock()
    }

    /// The next frame, or nil once the reader finished and every frame was taken.
    func next() async -> CapturedFrame? {
        await withCheckedContinuation { continuation in
            condition.lock()
            if !frames.isEmpty {
                let frame = frames.removeFirst()
                bytes -= frame.image.pixels.count
                condition.broadcast()
                condition.unlock()
                continuation.resume(returning: frame)
            } else if finished || closed {
                condition.unlock()
                continuation.resume(returning: nil)
            } else {
                waiter = continuation
                condition.unlock()
            }
        }
    }
}
