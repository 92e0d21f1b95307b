import { Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectRedis } from '@bastion/redis-sentinel';
import type { RedisClient } from '../common/redis-clients.js';
import { Observable, Subject } from 'rxjs';
import { NotificationsGateway } from './notifications.gateway.js';

export const NOTIFICATIONS_CHANNEL = 'notifications';

export interface Notification {
  id: string;
  message: string;
  publishedAt: string;
}

/**
 * Real-time notifications, two ways to every instance of the app:
 * - Socket.IO clients (NotificationsGateway): through the Socket.IO Redis adapter;
 * - SSE clients (`GET /notifications/stream`): through one Redis pub/sub subscription per process
 *   on the dedicated subscriber client (which restores it after a failover).
 */
@Injectable()
export class NotificationsService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(NotificationsService.name);
  private readonly feed = new Subject<Notification>();

  constructor(
    @InjectRedis() private readonly publisher: RedisClient,
    @InjectRedis('events') private readonly subscriber: RedisClient,
    private readonly gateway: NotificationsGateway,
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

  /**
   * Publishes to the SSE subscribers of every instance; rejects (→ 503) when no master took it,
   * and then does not broadcast either, so a retried notification is not shown twice. Then
   * broadcasts to the Socket.IO clients of every instance (fire-and-forget).
   */
  async publish(notification: Notification): Promise<void> {
    await this.publisher.publish(NOTIFICATIONS_CHANNEL, JSON.stringify(notification));
    this.gateway.broadcast(notification);
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
