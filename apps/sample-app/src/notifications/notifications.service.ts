import { Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectRedis } from '@bastion/redis-sentinel';
import { Redis } from 'ioredis';
import { Observable, Subject } from 'rxjs';

export const NOTIFICATIONS_CHANNEL = 'notifications';

export interface Notification {
  id: string;
  message: string;
  publishedAt: string;
}

/**
 * Real-time notifications over Redis pub/sub. One subscription per process on the dedicated
 * subscriber client (which restores it after a failover), fanned out to every SSE client.
 */
@Injectable()
export class NotificationsService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(NotificationsService.name);
  private readonly feed = new Subject<Notification>();

  constructor(
    @InjectRedis() private readonly publisher: Redis,
    @InjectRedis('events') private readonly subscriber: Redis,
  ) {}

  async onModuleInit(): Promise<void> {
    this.subscriber.on('message', (channel: string, raw: string) => {
      if (channel !== NOTIFICATIONS_CHANNEL) return;
      try {
        this.feed.next(JSON.parse(raw) as Notification);
      } catch {
        this.logger.warn('ignored a malformed notification');
      }
    });
    await this.subscriber.subscribe(NOTIFICATIONS_CHANNEL);
  }

  /** Publishes to every subscriber of every app instance. Returns how many processes received it. */
  async publish(notification: Notification): Promise<number> {
    return this.publisher.publish(NOTIFICATIONS_CHANNEL, JSON.stringify(notification));
  }

  /** Notifications published from now on. Completes at shutdown so open SSE responses end. */
  stream(): Observable<Notification> {
    return this.feed.asObservable();
  }

  /** Before the HTTP server closes: an open SSE response would otherwise keep it open. */
  beforeApplicationShutdown(): void {
    this.feed.complete();
  }
}
